/**
 * Port of the graph store: entities (people, products, teams, terms, places) resolved per
 * scope, typed relationships between them, and mentions (entity ↔ memory). Domain
 * operations only: no Cypher or SQL crosses it. Adapters: Neo4j (`NEO4J_URL`) and tables
 * with recursive CTEs in the embedded (or server) Postgres. Every operation is scoped to one
 * org; nothing of another org is ever read or written.
 */

export type ScopeLevel = 'ACTOR' | 'ROLE' | 'TEAM' | 'ORG' | 'WORLD';

export interface Scope {
  level: ScopeLevel;
  /** The actor, role, team or org id. */
  id: string;
}

import { ENTITY_TYPES, type EntityType } from '../../../common/entity-types';

/** Entity types; labels in Neo4j, so the list is a whitelist. */
export { ENTITY_TYPES, type EntityType };

/** Relationship types are caller-chosen but must match this (they become Neo4j relationship types). */
export const RELATIONSHIP_TYPE = /^[A-Z][A-Z0-9_]{0,49}$/;

export interface Entity {
  id: string;
  orgId: string;
  scope: Scope;
  name: string;
  /** Lowercased, whitespace-collapsed, NFKC name: the identity of an entity within a scope and type. */
  normalizedName: string;
  type: EntityType;
  aliases: string[];
  createdAt: Date;
}

export interface EntityInput {
  scope: Scope;
  name: string;
  type: EntityType;
  aliases?: string[];
}

export interface Relationship {
  id: string;
  orgId: string;
  fromId: string;
  toId: string;
  type: string;
  /**
   * The memory the relationship was learned from, if any. A relationship learned from several
   * memories keeps all of them as sources (this is one that still exists) and lives until the
   * last is deleted; one also upserted without a memory is never removed by deleting memories.
   */
  memoryId: string | null;
  createdAt: Date;
}

export interface RelationshipInput {
  fromId: string;
  toId: string;
  type: string;
  memoryId?: string | null;
}

export interface MentionInput {
  entityId: string;
  memoryId: string;
  /** Scope of the memory, so mentions can be deleted by actor / scope. */
  memoryScope: Scope;
  documentId?: string | null;
}

export interface Subgraph {
  entities: Entity[];
  relationships: Relationship[];
}

export interface EntityQuery {
  /** Case-insensitive substring of name or alias. */
  search?: string;
  type?: EntityType;
  /** Only these scopes (all of the org when omitted). */
  scopes?: Scope[];
  first: number;
  /** Keyset: entities after this (createdAt, id). */
  after?: { createdAt: Date; id: string };
}

export interface GraphStore {
  /**
   * Creates or finds entities by (org, scope, type, normalized name); aliases are unioned.
   * Idempotent, and safe under concurrency: two concurrent upserts of one entity give one.
   * Returns the entities in input order.
   */
  upsertEntities(orgId: string, entities: readonly EntityInput[]): Promise<Entity[]>;
  /** Creates relationships (idempotent per from, to, type). Both ends must be entities of the org. */
  upsertRelationships(orgId: string, relationships: readonly RelationshipInput[]): Promise<Relationship[]>;
  /** Links entities to the memories that mention them (idempotent). */
  linkMentions(orgId: string, mentions: readonly MentionInput[]): Promise<void>;

  /**
   * Finds entities whose normalized name or an alias equals one of `names` (normalized by the
   * store), within `scopes` only. Results per input name (every input name has an entry, [] when
   * nothing matches), most specific scope of the chain first (the order of `scopes`).
   */
  resolveNames(
    orgId: string,
    names: readonly string[],
    scopes: readonly Scope[],
  ): Promise<Map<string, Entity[]>>;

  getEntities(orgId: string, ids: readonly string[]): Promise<Entity[]>;
  findEntities(orgId: string, query: EntityQuery): Promise<Entity[]>;
  /**
   * Entities within `depth` (1..3) hops, never passing through an entity outside `scopes`,
   * relationships followed in either direction: the start entity first (nothing at all when it
   * is outside `scopes`), then by distance; and every relationship among those entities.
   */
  neighbours(orgId: string, entityId: string, depth: number, scopes: readonly Scope[]): Promise<Subgraph>;
  /**
   * A shortest path (at most 6 hops, relationships in either direction) that stays inside
   * `scopes`; null when none. Entities in path order from `fromId` to `toId`; relationships[i]
   * joins entities[i] and entities[i + 1].
   */
  shortestPath(
    orgId: string,
    fromId: string,
    toId: string,
    scopes: readonly Scope[],
  ): Promise<Subgraph | null>;
  /** Memory ids that mention each entity. */
  mentionsOf(orgId: string, entityIds: readonly string[]): Promise<Map<string, string[]>>;
  /** Entities mentioned by each memory. */
  entitiesOfMemories(orgId: string, memoryIds: readonly string[]): Promise<Map<string, Entity[]>>;

  /**
   * Removes the mentions of these memories (and relationships learned only from them). Returns
   * the number of mentions removed.
   */
  deleteByMemories(orgId: string, memoryIds: readonly string[]): Promise<number>;
  /** Removes the mentions of memories of this actor, and the actor-scoped entities. Returns mentions removed. */
  deleteByActor(orgId: string, actorId: string): Promise<number>;
  /** Removes everything of one scope (e.g. a deleted role or team). */
  deleteScope(orgId: string, scope: Scope): Promise<void>;
  /** Removes the whole graph of an org. */
  deleteOrg(orgId: string): Promise<void>;

  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The normalisation every adapter applies to names and aliases. */
export function normalizeName(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}
