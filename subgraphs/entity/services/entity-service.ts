import { BadUserInputError, NotFoundError } from '../../../common/errors';
import type { Embedder } from '../../memory/embedding/embedder';
import {
  ENTITY_TYPES,
  normalizeName,
  type Entity,
  type EntityQuery,
  type EntityType,
  type GraphStore,
  type Scope,
  type Subgraph,
} from '../graph/graph-store';

/** A memory's mentions to resolve, with the scope chain they may resolve along. */
export interface MentionsToResolve {
  /** Caller's key for the answer (e.g. the memory candidate's index). */
  key: string;
  /** Where new entities are registered: the memory's scope. */
  scope: Scope;
  /** Scopes an existing entity may come from, most specific first (e.g. ACTOR, ROLE, TEAM, ORG). */
  chain: Scope[];
  mentions: Array<{ name: string; type: string }>;
}

export interface MemoryLinks {
  memoryId: string;
  memoryScope: Scope;
  documentId?: string | null;
  entityIds: string[];
}

/** Types worth resolving by name similarity; dates, amounts and addresses only match exactly. */
const FUZZY_TYPES: ReadonlySet<EntityType> = new Set(['PERSON', 'ORGANIZATION', 'PRODUCT', 'PLACE', 'TERM']);
/** Candidates compared by similarity per mention (the most recent of that type in the chain). */
const FUZZY_CANDIDATES = 200;

/**
 * Entity resolution (seed 004 stage 2.4): a mention resolves to an existing entity along the
 * memory's scope chain, by normalised name or alias first (never missed), then by embedding
 * similarity of names above a threshold; otherwise a new entity is registered at the memory's
 * scope. So an actor asking about "Product X" links to the ORG entity registered from the
 * product docs instead of getting a private duplicate. Entities co-mentioned in one memory
 * are related (MENTIONED_WITH), learned from that memory.
 */
export class EntityService {
  constructor(
    private readonly store: GraphStore,
    private readonly embedder: Embedder,
    private readonly matchThreshold: number,
  ) {}

  async resolve(orgId: string, items: readonly MentionsToResolve[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>();
    for (const item of items) {
      const ids: string[] = [];
      const mentions = dedupe(item.mentions.filter((mention) => isEntityType(mention.type)));
      const exact = await this.store.resolveNames(
        orgId,
        mentions.map((mention) => mention.name),
        item.chain,
      );
      const toCreate: Array<{ name: string; type: EntityType }> = [];
      for (const mention of mentions) {
        const type = mention.type as EntityType;
        const found =
          (exact.get(mention.name) ?? []).find((entity) => entity.type === type) ??
          (exact.get(mention.name) ?? [])[0] ??
          (FUZZY_TYPES.has(type) ? await this.similar(orgId, mention.name, type, item.chain) : undefined);
        if (found) ids.push(found.id);
        else toCreate.push({ name: mention.name, type });
      }
      if (toCreate.length > 0) {
        const created = await this.store.upsertEntities(
          orgId,
          toCreate.map((mention) => ({ scope: item.scope, name: mention.name, type: mention.type })),
        );
        ids.push(...created.map((entity) => entity.id));
      }
      result.set(item.key, [...new Set(ids)]);
    }
    return result;
  }

  /** Links memories to their entities and relates the entities each memory mentions together. */
  async link(orgId: string, links: readonly MemoryLinks[]): Promise<void> {
    await this.store.linkMentions(
      orgId,
      links.flatMap((link) =>
        link.entityIds.map((entityId) => ({
          entityId,
          memoryId: link.memoryId,
          memoryScope: link.memoryScope,
          documentId: link.documentId ?? null,
        })),
      ),
    );
    const relationships = links.flatMap((link) =>
      link.entityIds.slice(1).map((toId) => ({
        fromId: link.entityIds[0]!,
        toId,
        type: 'MENTIONED_WITH',
        memoryId: link.memoryId,
      })),
    );
    if (relationships.length > 0) await this.store.upsertRelationships(orgId, relationships);
  }

  unlink(orgId: string, memoryIds: readonly string[]): Promise<number> {
    return this.store.deleteByMemories(orgId, memoryIds);
  }

  forgetActor(orgId: string, actorId: string): Promise<number> {
    return this.store.deleteByActor(orgId, actorId);
  }

  deleteOrg(orgId: string): Promise<void> {
    return this.store.deleteOrg(orgId);
  }

  /** A deleted role or team: its entities and the links of its memories go. */
  deleteScope(orgId: string, scope: Scope): Promise<void> {
    return this.store.deleteScope(orgId, scope);
  }

  async getEntity(orgId: string, id: string): Promise<Entity> {
    const [entity] = await this.store.getEntities(orgId, [id]);
    if (!entity) throw new NotFoundError(`Entity "${id}" not found`);
    return entity;
  }

  getEntities(orgId: string, ids: readonly string[]): Promise<Entity[]> {
    return this.store.getEntities(orgId, ids);
  }

  findEntities(orgId: string, query: EntityQuery): Promise<Entity[]> {
    if (query.type && !isEntityType(query.type))
      throw new BadUserInputError(`Unknown entity type ${query.type}`, { field: 'type' });
    return this.store.findEntities(orgId, query);
  }

  async neighbours(orgId: string, entityId: string, depth: number, scopes?: Scope[]): Promise<Subgraph> {
    if (!Number.isInteger(depth) || depth < 1 || depth > 3)
      throw new BadUserInputError('depth must be 1, 2 or 3', { field: 'depth' });
    await this.getEntity(orgId, entityId);
    return this.store.neighbours(orgId, entityId, depth, scopes ?? (await this.allScopes(orgId)));
  }

  async path(orgId: string, fromId: string, toId: string, scopes?: Scope[]): Promise<Subgraph | null> {
    await this.getEntity(orgId, fromId);
    await this.getEntity(orgId, toId);
    return this.store.shortestPath(orgId, fromId, toId, scopes ?? (await this.allScopes(orgId)));
  }

  mentionsOf(orgId: string, entityIds: readonly string[]) {
    return this.store.mentionsOf(orgId, entityIds);
  }

  entitiesOfMemories(orgId: string, memoryIds: readonly string[]) {
    return this.store.entitiesOfMemories(orgId, memoryIds);
  }

  /** Every scope of the org that has entities: what an org-wide traversal may pass through. */
  private async allScopes(orgId: string): Promise<Scope[]> {
    const seen = new Map<string, Scope>();
    let after: EntityQuery['after'];
    for (;;) {
      const page = await this.store.findEntities(orgId, { first: 500, after });
      for (const entity of page) seen.set(`${entity.scope.level}:${entity.scope.id}`, entity.scope);
      if (page.length < 500) break;
      const last = page.at(-1)!;
      after = { createdAt: last.createdAt, id: last.id };
    }
    return [...seen.values()];
  }

  private async similar(
    orgId: string,
    name: string,
    type: EntityType,
    chain: readonly Scope[],
  ): Promise<Entity | undefined> {
    const candidates = await this.store.findEntities(orgId, {
      type,
      scopes: [...chain],
      first: FUZZY_CANDIDATES,
    });
    if (candidates.length === 0) return undefined;
    const [query, ...vectors] = await this.embedder.embed([
      name,
      ...candidates.map((candidate) => candidate.name),
    ]);
    let best: { entity: Entity; score: number; rank: number } | undefined;
    candidates.forEach((entity, i) => {
      const score = dot(query!, vectors[i]!);
      const rank = chain.findIndex(
        (scope) => scope.level === entity.scope.level && scope.id === entity.scope.id,
      );
      if (
        score >= this.matchThreshold &&
        (!best || score > best.score || (score === best.score && rank < best.rank))
      ) {
        best = { entity, score, rank };
      }
    });
    return best?.entity;
  }
}

function isEntityType(type: string): type is EntityType {
  return (ENTITY_TYPES as readonly string[]).includes(type);
}

function dedupe(mentions: Array<{ name: string; type: string }>): Array<{ name: string; type: string }> {
  const seen = new Map<string, { name: string; type: string }>();
  for (const mention of mentions) seen.set(`${mention.type}:${normalizeName(mention.name)}`, mention);
  return [...seen.values()];
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
