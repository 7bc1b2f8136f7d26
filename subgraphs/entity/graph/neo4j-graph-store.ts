import { randomUUID } from 'node:crypto';
import neo4j, { type Driver, type ManagedTransaction, type Session } from 'neo4j-driver';
import { BadUserInputError } from '../../../common/errors';
import {
  ENTITY_TYPES,
  RELATIONSHIP_TYPE,
  normalizeName,
  type Entity,
  type EntityInput,
  type EntityQuery,
  type EntityType,
  type GraphStore,
  type MentionInput,
  type Relationship,
  type RelationshipInput,
  type Scope,
  type ScopeLevel,
  type Subgraph,
} from './graph-store';

/**
 * Neo4j adapter of the {@link GraphStore} port, on the official `neo4j-driver`.
 *
 * Graph model (every node carries `orgId`; nothing is ever matched without it):
 * - `(:Entity:<TYPE>)`: one node per (org, scope, type, normalized name), unique through the
 *   composite `key` property; the type is also a label (whitelisted against ENTITY_TYPES).
 * - `(:Entity)-[:HAS_NAME]->(:EntityName {orgId, value})`: one node per normalized name and
 *   alias, so name resolution is an index seek (Neo4j cannot index list elements).
 * - `(:Entity)-[:<TYPE>]->(:Entity)`: typed relationships (type checked against
 *   RELATIONSHIP_TYPE), idempotent per (from, to, type), with `id`, `orgId`, `memoryIds` (every
 *   memory it was learned from), `manual` (also asserted without a memory) and `memoryId` (the
 *   first source, kept pointing at one that still exists): the embedded adapter's semantics.
 * - `(:Entity)-[:MENTIONED_IN]->(:Memory {key, id, scopeKey, documentId})`: mentions, with the
 *   memory's scope so they can be deleted by actor or scope. The memory node also lists the
 *   `from` entities of relationships learned from it, because a relationship property cannot
 *   be indexed across arbitrary relationship types.
 *
 * Ids are UUIDs (lower case); an id that is not one names nothing, as in the embedded adapter.
 * Call {@link Neo4jGraphStore.init} once at start (connectivity, constraints, indexes).
 *
 * Traversals only walk through `:Entity` nodes of the org inside the allowed scopes, so
 * name and memory nodes (and other orgs) are never part of a path.
 *
 * Driver rules (STYLE.md): one session per operation, closed in `finally`; statements of a
 * transaction run one after the other (never concurrently on one session); 64-bit integers
 * and temporal values are converted here and never leave the adapter.
 */

/** Connection settings (`NEO4J_URL`, `NEO4J_USER`, `NEO4J_PASSWORD`). */
export interface Neo4jGraphStoreConfig {
  /** `bolt://`, `neo4j://` (routing) or their `+s` variants. */
  url: string;
  user: string;
  password: string;
  /** Database name; the server's default database when unset. */
  database?: string;
  /**
   * How long the driver keeps retrying a transaction on transient errors (including no
   * server reachable). @default 30000
   */
  maxTransactionRetryTimeMs?: number;
}

/** Placeholders of the few statements that need a label or relationship type in the text. */
export const ENTITY_TYPE_PLACEHOLDER = '`__ENTITY_TYPE__`';
export const RELATIONSHIP_TYPE_PLACEHOLDER = '`__RELATIONSHIP_TYPE__`';

/** Rows deleted per transaction by the bulk deletes (scope, org). */
const DELETE_BATCH = 1000;

const ENTITY_PROJECTION =
  '{.id, .orgId, .scopeLevel, .scopeId, .name, .normalizedName, .type, .aliases, .createdAt}';
const RELATIONSHIP_PROJECTION =
  '{id: r.id, orgId: r.orgId, fromId: startNode(r).id, toId: endNode(r).id, type: type(r), memoryId: r.memoryId, createdAt: r.createdAt}';
/**
 * Server-side time in whole milliseconds, so keyset pagination by a JS Date is exact. (Not
 * `datetime({epochMillis: timestamp()})`: Neo4j's semantic analyser used by the lint gives up
 * silently on that form, so the statement would go unchecked.)
 */
const NOW = 'datetime.fromepochmillis(timestamp())';
/** Path predicate: only entities of the org inside the allowed scopes. */
const PATH_IN_SCOPE = 'all(n IN nodes(p) WHERE n:Entity AND n.orgId = $orgId AND n.scopeKey IN $scopeKeys)';

/**
 * Every Cypher statement the adapter runs, by name. Nothing else is ever sent to the server,
 * so test/contract/cypher-lint.test.ts can check all of them with Neo4j's own parser. Labels
 * and relationship types appear only as the placeholders above and are substituted by
 * {@link withEntityTypeLabel} / {@link withRelationshipType} after the whitelist check.
 */
export const CYPHER = {
  // --- schema, created by init() -------------------------------------------------------------
  constraintEntityKey: 'CREATE CONSTRAINT entity_key IF NOT EXISTS FOR (e:Entity) REQUIRE e.key IS UNIQUE',
  constraintEntityId: 'CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE',
  constraintMemoryKey: 'CREATE CONSTRAINT memory_key IF NOT EXISTS FOR (m:Memory) REQUIRE m.key IS UNIQUE',
  indexEntityOrg: 'CREATE INDEX entity_org IF NOT EXISTS FOR (e:Entity) ON (e.orgId)',
  indexEntityOrgScope: 'CREATE INDEX entity_org_scope IF NOT EXISTS FOR (e:Entity) ON (e.orgId, e.scopeKey)',
  indexEntityOrgCreated:
    'CREATE INDEX entity_org_created IF NOT EXISTS FOR (e:Entity) ON (e.orgId, e.createdAt)',
  indexEntityNameValue:
    'CREATE INDEX entity_name_value IF NOT EXISTS FOR (n:EntityName) ON (n.orgId, n.value)',
  indexEntityNameOrg: 'CREATE INDEX entity_name_org IF NOT EXISTS FOR (n:EntityName) ON (n.orgId)',
  indexMemoryOrg: 'CREATE INDEX memory_org IF NOT EXISTS FOR (m:Memory) ON (m.orgId)',
  indexMemoryOrgScope: 'CREATE INDEX memory_org_scope IF NOT EXISTS FOR (m:Memory) ON (m.orgId, m.scopeKey)',
  indexMemoryOrgDocument:
    'CREATE INDEX memory_org_document IF NOT EXISTS FOR (m:Memory) ON (m.orgId, m.documentId)',
  indexMentionCreated:
    'CREATE INDEX mention_created IF NOT EXISTS FOR ()-[m:MENTIONED_IN]-() ON (m.createdAt)',
  awaitIndexes: 'CALL db.awaitIndexes(300)',

  ping: 'RETURN 1 AS ok',

  // --- writes ----------------------------------------------------------------------------------
  /**
   * Per entity type (the label); rows are unique per key within one call. Setting `seenAt`
   * before reading the aliases takes the node's write lock, so concurrent alias unions of one
   * entity serialise instead of overwriting each other.
   */
  upsertEntities: `UNWIND $rows AS row
MERGE (e:Entity {key: row.key})
ON CREATE SET e.id = row.id, e.orgId = $orgId, e.scopeLevel = row.scopeLevel, e.scopeId = row.scopeId,
  e.scopeKey = row.scopeKey, e.name = row.name, e.normalizedName = row.normalizedName, e.type = row.type,
  e.aliases = [], e.normalizedAliases = [], e.createdAt = ${NOW}
SET e:${ENTITY_TYPE_PLACEHOLDER}, e.seenAt = ${NOW}
WITH e, row, [a IN row.aliases WHERE NOT a.normalized IN e.normalizedAliases AND a.normalized <> e.normalizedName] AS fresh
SET e.aliases = e.aliases + [a IN fresh | a.alias],
  e.normalizedAliases = e.normalizedAliases + [a IN fresh | a.normalized]
WITH e, row
UNWIND [e.normalizedName] + e.normalizedAliases AS value
MERGE (e)-[:HAS_NAME]->(:EntityName {orgId: $orgId, value: value})
WITH DISTINCT e, row
RETURN row.keyIndex AS keyIndex, e ${ENTITY_PROJECTION} AS entity`,

  /** The ids (of `$ids`) that are not entities of the org. */
  missingEntities: `UNWIND $ids AS id
OPTIONAL MATCH (e:Entity {id: id})
WHERE e.orgId = $orgId
WITH id, e
WHERE e IS NULL
RETURN collect(id) AS missing`,

  /**
   * Per relationship type; rows are unique per (from, to) within one call. `memoryIds` lists
   * every memory the relationship was learned from, `manual` marks one also asserted without
   * a memory, `memoryId` is the first source (kept pointing at one that still exists). Setting
   * `updatedAt` first takes the relationship's write lock before the sources are read.
   */
  upsertRelationships: `UNWIND $rows AS row
MATCH (a:Entity {id: row.fromId})
WHERE a.orgId = $orgId
MATCH (b:Entity {id: row.toId})
WHERE b.orgId = $orgId
MERGE (a)-[r:${RELATIONSHIP_TYPE_PLACEHOLDER}]->(b)
ON CREATE SET r.id = row.id, r.orgId = $orgId, r.memoryId = row.firstSource, r.memoryIds = [], r.manual = false,
  r.createdAt = ${NOW}
SET r.updatedAt = ${NOW}
WITH a, b, r, row
SET r.memoryIds = r.memoryIds + [m IN row.sources WHERE NOT m IN r.memoryIds], r.manual = r.manual OR row.manual
RETURN row.keyIndex AS keyIndex,
  {id: r.id, orgId: r.orgId, fromId: a.id, toId: b.id, type: type(r), memoryId: r.memoryId, createdAt: r.createdAt}
    AS relationship`,

  /** Remembers which entities the relationships learned from a memory start at (for deletes). */
  recordLearnedRelationships: `UNWIND $rows AS row
MERGE (mem:Memory {key: row.memoryKey})
ON CREATE SET mem.orgId = $orgId, mem.id = row.memoryId
WITH mem, collect(DISTINCT row.fromId) AS fromIds
SET mem.relationshipFromIds = coalesce(mem.relationshipFromIds, [])
  + [x IN fromIds WHERE NOT x IN coalesce(mem.relationshipFromIds, [])]
RETURN count(mem) AS memories`,

  linkMentions: `UNWIND $rows AS row
MATCH (e:Entity {id: row.entityId})
WHERE e.orgId = $orgId
MERGE (mem:Memory {key: row.memoryKey})
ON CREATE SET mem.orgId = $orgId, mem.id = row.memoryId
SET mem.scopeLevel = row.scopeLevel, mem.scopeId = row.scopeId, mem.scopeKey = row.scopeKey,
  mem.documentId = coalesce(row.documentId, mem.documentId)
MERGE (e)-[m:MENTIONED_IN]->(mem)
ON CREATE SET m.createdAt = ${NOW}
RETURN count(*) AS linked`,

  // --- reads -----------------------------------------------------------------------------------
  resolveNames: `MATCH (n:EntityName)<-[:HAS_NAME]-(e:Entity)
WHERE n.orgId = $orgId AND n.value IN $values AND e.orgId = $orgId AND e.scopeKey IN $scopeKeys
RETURN DISTINCT n.value AS value, e ${ENTITY_PROJECTION} AS entity`,

  getEntities: `MATCH (e:Entity)
WHERE e.id IN $ids AND e.orgId = $orgId
RETURN e ${ENTITY_PROJECTION} AS entity`,

  /** `$search` is normalized: a literal substring of the normalized name or an alias. */
  findEntities: `MATCH (e:Entity)
WHERE e.orgId = $orgId
  AND ($type IS NULL OR e.type = $type)
  AND ($scopeKeys IS NULL OR e.scopeKey IN $scopeKeys)
  AND ($search IS NULL OR e.normalizedName CONTAINS $search
    OR any(alias IN e.normalizedAliases WHERE alias CONTAINS $search))
  AND ($afterMs IS NULL OR e.createdAt.epochMillis > $afterMs
    OR (e.createdAt.epochMillis = $afterMs AND e.id > $afterId))
RETURN e ${ENTITY_PROJECTION} AS entity
ORDER BY e.createdAt, e.id
LIMIT $first`,

  /**
   * The entities within `$depth` hops (variable-length bounds cannot be parameters: 3 is the
   * maximum, `$depth` narrows it) with their BFS distance, then every relationship among them.
   */
  neighbours: `MATCH (start:Entity {id: $entityId})
WHERE start.orgId = $orgId AND start.scopeKey IN $scopeKeys
OPTIONAL MATCH p = (start)-[*1..3]-(other:Entity)
WHERE length(p) <= $depth AND ${PATH_IN_SCOPE}
WITH start, other, min(length(p)) AS depth
WITH start, collect(CASE WHEN other IS NULL OR other = start THEN null ELSE {node: other, depth: depth} END) AS found
UNWIND [{node: start, depth: 0}] + found AS reached
WITH reached.node AS n, reached.depth AS depth
WITH collect(n) AS ns, collect(n {.id, .orgId, .scopeLevel, .scopeId, .name, .normalizedName, .type, .aliases, .createdAt, depth: depth}) AS entities
UNWIND ns AS a
OPTIONAL MATCH (a)-[r]->(b:Entity)
WHERE b IN ns AND r.orgId = $orgId
WITH entities, collect(DISTINCT r) AS rels
RETURN entities, [r IN rels | ${RELATIONSHIP_PROJECTION}] AS relationships`,

  /** `shortestPath` applies the `all(nodes)` predicate during the search, so it routes around. */
  shortestPath: `MATCH (a:Entity {id: $fromId})
WHERE a.orgId = $orgId AND a.scopeKey IN $scopeKeys
MATCH (b:Entity {id: $toId})
WHERE b.orgId = $orgId AND b.scopeKey IN $scopeKeys
MATCH p = shortestPath((a)-[*..6]-(b))
WHERE ${PATH_IN_SCOPE}
RETURN [n IN nodes(p) | n ${ENTITY_PROJECTION}] AS entities,
  [r IN relationships(p) | ${RELATIONSHIP_PROJECTION}] AS relationships
LIMIT 1`,

  mentionsOf: `MATCH (e:Entity)-[m:MENTIONED_IN]->(mem:Memory)
WHERE e.id IN $entityIds AND e.orgId = $orgId AND mem.orgId = $orgId
RETURN e.id AS entityId, mem.id AS memoryId
ORDER BY m.createdAt, mem.id`,

  entitiesOfMemories: `MATCH (mem:Memory)<-[m:MENTIONED_IN]-(e:Entity)
WHERE mem.key IN $memoryKeys AND e.orgId = $orgId
RETURN mem.id AS memoryId, e ${ENTITY_PROJECTION} AS entity
ORDER BY m.createdAt, e.id`,

  // --- deletes ---------------------------------------------------------------------------------
  /** Ids of (at most `$batch`) memories of a scope (the memory scope their mentions were linked with). */
  memoriesOfScope: `MATCH (mem:Memory)
WHERE mem.orgId = $orgId AND mem.scopeKey = $scopeKey
RETURN mem.id AS memoryId
LIMIT $batch`,

  /**
   * Drops the memories from the sources of the relationships learned from them (found from
   * their recorded start entities): a relationship left without a source and never asserted
   * without a memory is deleted; one still supported points at a memory that still exists.
   */
  forgetLearnedRelationships: `MATCH (mem:Memory)
WHERE mem.key IN $memoryKeys
UNWIND coalesce(mem.relationshipFromIds, []) AS fromId
MATCH (a:Entity {id: fromId})-[r]->(:Entity)
WHERE a.orgId = $orgId AND mem.id IN r.memoryIds
WITH DISTINCT r
SET r.updatedAt = ${NOW}
WITH r, [m IN r.memoryIds WHERE NOT m IN $memoryIds] AS remaining
WITH r, remaining, size(remaining) = 0 AND NOT r.manual AS orphan,
  CASE WHEN r.memoryId IN $memoryIds THEN head(remaining) ELSE r.memoryId END AS memoryId
FOREACH (_ IN CASE WHEN orphan THEN [1] ELSE [] END | DELETE r)
FOREACH (_ IN CASE WHEN orphan THEN [] ELSE [1] END | SET r.memoryIds = remaining, r.memoryId = memoryId)
RETURN count(*) AS touched`,

  /** The memories themselves, with their mentions. */
  deleteMemories: `MATCH (mem:Memory)
WHERE mem.key IN $memoryKeys
OPTIONAL MATCH (:Entity)-[m:MENTIONED_IN]->(mem)
WITH mem, count(m) AS mentions
DETACH DELETE mem
RETURN count(*) AS memories, sum(mentions) AS mentions`,

  /** One batch of the entities of a scope, with their names, relationships and mentions. */
  deleteEntitiesOfScopeBatch: `MATCH (e:Entity)
WHERE e.orgId = $orgId AND e.scopeKey = $scopeKey
WITH e
LIMIT $batch
OPTIONAL MATCH (e)-[m:MENTIONED_IN]->(:Memory)
WITH e, count(m) AS mentions
OPTIONAL MATCH (e)-[:HAS_NAME]->(n:EntityName)
WITH e, mentions, collect(n) AS names
FOREACH (n IN names | DETACH DELETE n)
DETACH DELETE e
RETURN count(*) AS entities, sum(mentions) AS mentions`,

  deleteOrgEntitiesBatch: `MATCH (e:Entity)
WHERE e.orgId = $orgId
WITH e
LIMIT $batch
DETACH DELETE e
RETURN count(*) AS deleted`,
  deleteOrgNamesBatch: `MATCH (n:EntityName)
WHERE n.orgId = $orgId
WITH n
LIMIT $batch
DETACH DELETE n
RETURN count(*) AS deleted`,
  deleteOrgMemoriesBatch: `MATCH (mem:Memory)
WHERE mem.orgId = $orgId
WITH mem
LIMIT $batch
DETACH DELETE mem
RETURN count(*) AS deleted`,
} as const;

export type CypherName = keyof typeof CYPHER;

/** The statements init() runs, in order (constraints first: they bring their own indexes). */
export const SCHEMA_STATEMENTS: readonly CypherName[] = [
  'constraintEntityKey',
  'constraintEntityId',
  'constraintMemoryKey',
  'indexEntityOrg',
  'indexEntityOrgScope',
  'indexEntityOrgCreated',
  'indexEntityNameValue',
  'indexEntityNameOrg',
  'indexMemoryOrg',
  'indexMemoryOrgScope',
  'indexMemoryOrgDocument',
  'indexMentionCreated',
];

const SCOPE_LEVELS: readonly ScopeLevel[] = ['ACTOR', 'ROLE', 'TEAM', 'ORG', 'WORLD'];

// --- whitelists ----------------------------------------------------------------------------------

export function isEntityType(value: unknown): value is EntityType {
  return typeof value === 'string' && (ENTITY_TYPES as readonly string[]).includes(value);
}

/** Throws BadUserInputError unless `value` is one of ENTITY_TYPES (it becomes a label). */
export function assertEntityType(value: unknown): asserts value is EntityType {
  if (!isEntityType(value)) {
    throw new BadUserInputError(`unknown entity type ${JSON.stringify(value)}`, {
      field: 'type',
      allowed: [...ENTITY_TYPES],
    });
  }
}

/** Throws BadUserInputError unless `value` matches RELATIONSHIP_TYPE (it becomes a relationship type). */
export function assertRelationshipType(value: unknown): asserts value is string {
  if (typeof value !== 'string' || !RELATIONSHIP_TYPE.test(value)) {
    throw new BadUserInputError(`invalid relationship type ${JSON.stringify(value)}`, {
      field: 'type',
      pattern: RELATIONSHIP_TYPE.source,
    });
  }
}

/** The statement with its entity-type placeholder replaced by the whitelisted label. */
export function withEntityTypeLabel(template: string, type: unknown): string {
  assertEntityType(type);
  if (!template.includes(ENTITY_TYPE_PLACEHOLDER))
    throw new Error('statement has no entity type placeholder');
  return template.replaceAll(ENTITY_TYPE_PLACEHOLDER, `\`${type}\``);
}

/** The statement with its relationship-type placeholder replaced by the checked type. */
export function withRelationshipType(template: string, type: unknown): string {
  assertRelationshipType(type);
  if (!template.includes(RELATIONSHIP_TYPE_PLACEHOLDER)) {
    throw new Error('statement has no relationship type placeholder');
  }
  return template.replaceAll(RELATIONSHIP_TYPE_PLACEHOLDER, `\`${type}\``);
}

// --- value conversion ----------------------------------------------------------------------------

/**
 * A Neo4j 64-bit Integer (or a JS number / bigint) as a JS number. Throws RangeError outside
 * Number's safe range rather than silently losing precision.
 */
export function toNumber(value: unknown): number {
  if (neo4j.isInt(value)) {
    if (!neo4j.integer.inSafeRange(value))
      throw new RangeError(`integer ${value.toString()} is out of the safe range`);
    return value.toNumber();
  }
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError(`integer ${value.toString()} is out of the safe range`);
    }
    return Number(value);
  }
  throw new TypeError(`expected an integer, got ${typeName(value)}`);
}

/** A Neo4j DateTime (or a JS Date) as a JS Date. */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (neo4j.isDateTime(value)) return value.toStandardDate();
  throw new TypeError(`expected a DateTime, got ${typeName(value)}`);
}

/**
 * Converts a value returned by the driver to plain JS, deeply: Integers to numbers,
 * DateTimes to Dates, lists and maps recursively. Other values pass unchanged.
 */
export function fromNeo4j(value: unknown): unknown {
  if (neo4j.isInt(value)) return toNumber(value);
  if (neo4j.isDateTime(value)) return toDate(value);
  if (Array.isArray(value)) return value.map((item) => fromNeo4j(item));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fromNeo4j(item)]));
  }
  return value;
}

/** A count column of an aggregation row; 0 when there is no row or the value is null. */
export function countOf(record: { get(key: string): unknown } | undefined, key: string): number {
  const value = record?.get(key);
  return value === null || value === undefined ? 0 : toNumber(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

function parseEntity(raw: unknown): Entity {
  const row = fromNeo4j(raw) as Record<string, unknown>;
  const type = row.type;
  const level = row.scopeLevel;
  if (!isEntityType(type)) throw new Error(`stored entity has unknown type ${String(type)}`);
  if (!SCOPE_LEVELS.includes(level as ScopeLevel))
    throw new Error(`stored entity has unknown scope ${String(level)}`);
  return {
    id: String(row.id),
    orgId: String(row.orgId),
    scope: { level: level as ScopeLevel, id: String(row.scopeId) },
    name: String(row.name),
    normalizedName: String(row.normalizedName),
    type,
    aliases: Array.isArray(row.aliases) ? row.aliases.map(String) : [],
    createdAt: toDate(row.createdAt),
  };
}

function parseRelationship(raw: unknown): Relationship {
  const row = fromNeo4j(raw) as Record<string, unknown>;
  return {
    id: String(row.id),
    orgId: String(row.orgId),
    fromId: String(row.fromId),
    toId: String(row.toId),
    type: String(row.type),
    memoryId: row.memoryId === null || row.memoryId === undefined ? null : String(row.memoryId),
    createdAt: toDate(row.createdAt),
  };
}

// --- keys ----------------------------------------------------------------------------------------

/** `LEVEL:id`: one property to filter scopes with `IN` (levels contain no colon). */
export function scopeKey(scope: Scope): string {
  return `${scope.level}:${scope.id}`;
}

/** The composite identity of an entity, unique through the `entity_key` constraint. */
export function entityKey(orgId: string, scope: Scope, type: EntityType, normalizedName: string): string {
  return JSON.stringify([orgId, scope.level, scope.id, type, normalizedName]);
}

export function memoryKey(orgId: string, memoryId: string): string {
  return JSON.stringify([orgId, memoryId]);
}

// --- input checks (the same rules as the embedded adapter) ----------------------------------------

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_NAME_LENGTH = 500;
const MAX_SCOPE_ID_LENGTH = 200;
const MAX_PAGE = 10_000;

function checkOrg(orgId: unknown): void {
  if (typeof orgId !== 'string' || orgId === '') throw new BadUserInputError('orgId is required');
}

function checkScope(scope: Scope | undefined): Scope {
  if (!scope || !SCOPE_LEVELS.includes(scope.level)) {
    throw new BadUserInputError(`scope level must be one of ${SCOPE_LEVELS.join(', ')}`, { field: 'scope' });
  }
  if (typeof scope.id !== 'string' || scope.id === '' || scope.id.length > MAX_SCOPE_ID_LENGTH) {
    throw new BadUserInputError(`scope id must be 1 to ${MAX_SCOPE_ID_LENGTH} characters`, {
      field: 'scope',
    });
  }
  return scope;
}

function checkScopes(scopes: readonly Scope[]): string[] {
  return scopes.map((scope) => scopeKey(checkScope(scope)));
}

function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** A UUID, lower-cased (ids are stored lower-case). */
function checkUuid(value: unknown, field: string): string {
  if (!isUuid(value)) throw new BadUserInputError(`${field} must be a UUID`, { field });
  return value.toLowerCase();
}

/** Distinct, lower-cased ids that can be UUIDs: anything else names nothing. */
function uuidsOnly(ids: readonly string[]): string[] {
  return [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
}

function checkName(name: unknown, field: string): string {
  if (typeof name !== 'string') throw new BadUserInputError(`${field} must be a string`, { field });
  const trimmed = name.trim();
  if (normalizeName(trimmed) === '') throw new BadUserInputError(`${field} must not be empty`, { field });
  if (trimmed.length > MAX_NAME_LENGTH) {
    throw new BadUserInputError(`${field} must be at most ${MAX_NAME_LENGTH} characters`, { field });
  }
  return trimmed;
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

interface EntityRow {
  keyIndex: number;
  key: string;
  id: string;
  type: EntityType;
  scopeLevel: ScopeLevel;
  scopeId: string;
  scopeKey: string;
  name: string;
  normalizedName: string;
  aliases: { alias: string; normalized: string }[];
}

interface RelationshipRow {
  keyIndex: number;
  id: string;
  type: string;
  fromId: string;
  toId: string;
  /** Memories it is learned from in this call (input order of the first, then by id). */
  sources: string[];
  /** The first memory given for it in this call: its `memoryId` when it is new. */
  firstSource: string | null;
  /** Asserted without a memory in this call. */
  manual: boolean;
}

// --- the adapter ---------------------------------------------------------------------------------

export class Neo4jGraphStore implements GraphStore {
  private readonly driver: Driver;
  private readonly database: string | undefined;

  /**
   * Creates the driver only: no connection is made here (a managed transaction would keep
   * retrying for `maxTransactionRetryTimeMs` without a server). {@link init} checks connectivity.
   */
  constructor(private readonly config: Neo4jGraphStoreConfig) {
    this.driver = neo4j.driver(config.url, neo4j.auth.basic(config.user, config.password), {
      maxTransactionRetryTime: config.maxTransactionRetryTimeMs ?? 30_000,
      userAgent: 'memsy-entity',
    });
    this.database = config.database;
  }

  /** Checks the server is reachable, then creates the constraints and indexes (idempotent). */
  async init(): Promise<void> {
    try {
      await this.driver.verifyConnectivity(this.database ? { database: this.database } : undefined);
    } catch (error) {
      throw new Error(`Neo4j at ${this.config.url} is not reachable: ${(error as Error).message}`, {
        cause: error,
      });
    }
    await this.withSession('WRITE', async (session) => {
      // Schema commands cannot share a transaction with other writes: one each, in order.
      for (const name of SCHEMA_STATEMENTS) {
        await session.executeWrite((tx) => tx.run(CYPHER[name]));
      }
      await session.run(CYPHER.awaitIndexes);
    });
  }

  /** One auto-commit query: unlike a managed transaction it fails at once without a server. */
  async ping(): Promise<void> {
    await this.withSession('READ', async (session) => {
      await session.run(CYPHER.ping);
    });
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  // ---- writes ------------------------------------------------------------------------

  async upsertEntities(orgId: string, entities: readonly EntityInput[]): Promise<Entity[]> {
    checkOrg(orgId);
    // Everything is checked before the driver is touched: the type becomes a label.
    const byKey = new Map<string, EntityRow>();
    const inputKeys: string[] = [];
    for (const input of entities) {
      const scope = checkScope(input.scope);
      assertEntityType(input.type);
      const name = checkName(input.name, 'name');
      const normalizedName = normalizeName(name);
      const key = entityKey(orgId, scope, input.type, normalizedName);
      let row = byKey.get(key);
      if (!row) {
        // One row per identity (the first spelling of the name wins), aliases unioned.
        row = {
          keyIndex: byKey.size,
          key,
          id: randomUUID(),
          type: input.type,
          scopeLevel: scope.level,
          scopeId: scope.id,
          scopeKey: scopeKey(scope),
          name,
          normalizedName,
          aliases: [],
        };
        byKey.set(key, row);
      }
      inputKeys.push(key);
      addAliases(row, input.aliases ?? []);
    }
    if (inputKeys.length === 0) return [];

    const rows = [...byKey.values()];
    const results: Entity[] = new Array<Entity>(rows.length);
    await this.write(async (tx) => {
      for (const [type, group] of groupBy(rows, (row) => row.type)) {
        const result = await tx.run(withEntityTypeLabel(CYPHER.upsertEntities, type), { orgId, rows: group });
        for (const record of result.records) {
          results[toNumber(record.get('keyIndex'))] = parseEntity(record.get('entity'));
        }
      }
    });
    return inputKeys.map((key) => {
      const entity = results[byKey.get(key)!.keyIndex];
      if (!entity) throw new Error('an entity upsert returned no row');
      return entity;
    });
  }

  async upsertRelationships(
    orgId: string,
    relationships: readonly RelationshipInput[],
  ): Promise<Relationship[]> {
    checkOrg(orgId);
    // Everything is checked before the driver is touched: the type is interpolated into Cypher.
    const byIdentity = new Map<string, RelationshipRow>();
    const inputKeys: string[] = [];
    for (const input of relationships) {
      assertRelationshipType(input.type);
      const fromId = checkUuid(input.fromId, 'fromId');
      const toId = checkUuid(input.toId, 'toId');
      const memoryId = input.memoryId == null ? null : checkUuid(input.memoryId, 'memoryId');
      const identity = `${fromId} ${toId} ${input.type}`;
      let row = byIdentity.get(identity);
      if (!row) {
        row = {
          keyIndex: byIdentity.size,
          id: randomUUID(),
          type: input.type,
          fromId,
          toId,
          sources: [],
          firstSource: null,
          manual: false,
        };
        byIdentity.set(identity, row);
      }
      inputKeys.push(identity);
      if (memoryId === null) row.manual = true;
      else if (!row.sources.includes(memoryId)) {
        row.firstSource ??= memoryId;
        row.sources.push(memoryId);
      }
    }
    if (inputKeys.length === 0) return [];
    const rows = [...byIdentity.values()];
    // Sources added by one call count as added at once: ordered by id, like the embedded store.
    for (const row of rows) row.sources.sort();

    const results: Relationship[] = new Array<Relationship>(rows.length);
    await this.write(async (tx) => {
      await this.assertEntitiesOfOrg(
        tx,
        orgId,
        rows.flatMap((row) => [row.fromId, row.toId]),
        'both ends of a relationship must be entities of the org',
      );
      for (const [type, group] of groupBy(rows, (row) => row.type)) {
        const result = await tx.run(withRelationshipType(CYPHER.upsertRelationships, type), {
          orgId,
          rows: group,
        });
        for (const record of result.records) {
          results[toNumber(record.get('keyIndex'))] = parseRelationship(record.get('relationship'));
        }
      }
      const learned = rows.flatMap((row) =>
        row.sources.map((memoryId) => ({
          memoryKey: memoryKey(orgId, memoryId),
          memoryId,
          fromId: row.fromId,
        })),
      );
      if (learned.length > 0) await tx.run(CYPHER.recordLearnedRelationships, { orgId, rows: learned });
    });
    return inputKeys.map((identity) => {
      const relationship = results[byIdentity.get(identity)!.keyIndex];
      // Only a concurrent delete of an end entity between the check and the merge gets here.
      if (!relationship) throw new BadUserInputError('a relationship end was deleted meanwhile');
      return relationship;
    });
  }

  async linkMentions(orgId: string, mentions: readonly MentionInput[]): Promise<void> {
    checkOrg(orgId);
    const rows = new Map<string, Record<string, string | null>>();
    for (const mention of mentions) {
      const entityId = checkUuid(mention.entityId, 'entityId');
      const memoryId = checkUuid(mention.memoryId, 'memoryId');
      const scope = checkScope(mention.memoryScope);
      if (mention.documentId != null && typeof mention.documentId !== 'string') {
        throw new BadUserInputError('documentId must be a string', { field: 'documentId' });
      }
      const identity = `${entityId} ${memoryId}`;
      if (rows.has(identity)) continue;
      rows.set(identity, {
        entityId,
        memoryId,
        memoryKey: memoryKey(orgId, memoryId),
        scopeLevel: scope.level,
        scopeId: scope.id,
        scopeKey: scopeKey(scope),
        documentId: mention.documentId ?? null,
      });
    }
    if (rows.size === 0) return;
    await this.write(async (tx) => {
      await this.assertEntitiesOfOrg(
        tx,
        orgId,
        [...rows.values()].map((row) => row.entityId!),
        'mentions must link entities of the org',
      );
      await tx.run(CYPHER.linkMentions, { orgId, rows: [...rows.values()] });
    });
  }

  // ---- reads -------------------------------------------------------------------------

  async resolveNames(
    orgId: string,
    names: readonly string[],
    scopes: readonly Scope[],
  ): Promise<Map<string, Entity[]>> {
    checkOrg(orgId);
    const scopeKeys = checkScopes(scopes);
    const resolved = new Map<string, Entity[]>(names.map((name) => [name, []]));
    const values = [
      ...new Set(names.map((name) => normalizeName(String(name))).filter((value) => value !== '')),
    ];
    if (values.length === 0 || scopeKeys.length === 0) return resolved;
    const records = await this.read(
      async (tx) => (await tx.run(CYPHER.resolveNames, { orgId, values, scopeKeys })).records,
    );
    const byValue = new Map<string, Entity[]>();
    for (const record of records) {
      const value = record.get('value') as string;
      const entity = parseEntity(record.get('entity'));
      const list = byValue.get(value) ?? [];
      if (!list.some((found) => found.id === entity.id)) list.push(entity);
      byValue.set(value, list);
    }
    // Most specific scope first (the order of the chain), then oldest.
    const rank = (entity: Entity) => scopeKeys.indexOf(scopeKey(entity.scope));
    for (const list of byValue.values()) {
      list.sort(
        (a, b) => rank(a) - rank(b) || a.createdAt.getTime() - b.createdAt.getTime() || compare(a.id, b.id),
      );
    }
    for (const name of names) resolved.set(name, [...(byValue.get(normalizeName(String(name))) ?? [])]);
    return resolved;
  }

  async getEntities(orgId: string, ids: readonly string[]): Promise<Entity[]> {
    checkOrg(orgId);
    const wanted = uuidsOnly(ids);
    if (wanted.length === 0) return [];
    const records = await this.read(
      async (tx) => (await tx.run(CYPHER.getEntities, { orgId, ids: wanted })).records,
    );
    const byId = new Map<string, Entity>();
    for (const record of records) {
      const entity = parseEntity(record.get('entity'));
      byId.set(entity.id, entity);
    }
    return wanted.flatMap((id) => byId.get(id) ?? []);
  }

  async findEntities(orgId: string, query: EntityQuery): Promise<Entity[]> {
    checkOrg(orgId);
    if (!Number.isInteger(query.first) || query.first < 0 || query.first > MAX_PAGE) {
      throw new BadUserInputError(`first must be an integer from 0 to ${MAX_PAGE}`, { field: 'first' });
    }
    if (query.type !== undefined) assertEntityType(query.type);
    const scopeKeys = query.scopes ? checkScopes(query.scopes) : null;
    if (query.first === 0 || scopeKeys?.length === 0) return [];
    if (query.after && !isUuid(query.after.id)) return [];
    const search = query.search === undefined ? '' : normalizeName(query.search);
    const params = {
      orgId,
      type: query.type ?? null,
      scopeKeys,
      search: search === '' ? null : search,
      afterMs: query.after ? neo4j.int(query.after.createdAt.getTime()) : null,
      afterId: query.after ? query.after.id.toLowerCase() : null,
      first: neo4j.int(query.first),
    };
    const records = await this.read(async (tx) => (await tx.run(CYPHER.findEntities, params)).records);
    return records.map((record) => parseEntity(record.get('entity')));
  }

  async neighbours(
    orgId: string,
    entityId: string,
    depth: number,
    scopes: readonly Scope[],
  ): Promise<Subgraph> {
    checkOrg(orgId);
    if (!Number.isInteger(depth) || depth < 1 || depth > 3) {
      throw new BadUserInputError('depth must be 1, 2 or 3', { field: 'depth' });
    }
    const scopeKeys = checkScopes(scopes);
    if (!isUuid(entityId) || scopeKeys.length === 0) return { entities: [], relationships: [] };
    const params = { orgId, entityId: entityId.toLowerCase(), depth: neo4j.int(depth), scopeKeys };
    const records = await this.read(async (tx) => (await tx.run(CYPHER.neighbours, params)).records);
    const record = records[0];
    if (!record) return { entities: [], relationships: [] };
    // The start first, then by distance, name and id; relationships oldest first.
    const reached = ((record.get('entities') as unknown[] | null) ?? []).map((raw) => ({
      entity: parseEntity(raw),
      depth: toNumber((raw as { depth: unknown }).depth),
    }));
    reached.sort(
      (a, b) =>
        a.depth - b.depth || compare(a.entity.name, b.entity.name) || compare(a.entity.id, b.entity.id),
    );
    const relationships = ((record.get('relationships') as unknown[] | null) ?? []).map(parseRelationship);
    relationships.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compare(a.id, b.id));
    return { entities: reached.map((item) => item.entity), relationships };
  }

  async shortestPath(
    orgId: string,
    fromId: string,
    toId: string,
    scopes: readonly Scope[],
  ): Promise<Subgraph | null> {
    checkOrg(orgId);
    const scopeKeys = checkScopes(scopes);
    if (!isUuid(fromId) || !isUuid(toId) || scopeKeys.length === 0) return null;
    const from = fromId.toLowerCase();
    const to = toId.toLowerCase();
    if (from === to) {
      // Neo4j's shortestPath refuses identical ends; the zero-length path is the entity itself.
      const [entity] = await this.getEntities(orgId, [from]);
      return entity && scopeKeys.includes(scopeKey(entity.scope))
        ? { entities: [entity], relationships: [] }
        : null;
    }
    const records = await this.read(
      async (tx) => (await tx.run(CYPHER.shortestPath, { orgId, fromId: from, toId: to, scopeKeys })).records,
    );
    const record = records[0];
    if (!record) return null;
    return {
      entities: ((record.get('entities') as unknown[] | null) ?? []).map(parseEntity),
      relationships: ((record.get('relationships') as unknown[] | null) ?? []).map(parseRelationship),
    };
  }

  async mentionsOf(orgId: string, entityIds: readonly string[]): Promise<Map<string, string[]>> {
    checkOrg(orgId);
    const result = new Map<string, string[]>(entityIds.map((id) => [id, []]));
    const wanted = uuidsOnly(entityIds);
    if (wanted.length === 0) return result;
    const records = await this.read(
      async (tx) => (await tx.run(CYPHER.mentionsOf, { orgId, entityIds: wanted })).records,
    );
    const byEntity = new Map<string, string[]>();
    for (const record of records) {
      const entityId = record.get('entityId') as string;
      byEntity.set(entityId, [...(byEntity.get(entityId) ?? []), record.get('memoryId') as string]);
    }
    for (const id of entityIds) result.set(id, [...(byEntity.get(id.toLowerCase()) ?? [])]);
    return result;
  }

  async entitiesOfMemories(orgId: string, memoryIds: readonly string[]): Promise<Map<string, Entity[]>> {
    checkOrg(orgId);
    const result = new Map<string, Entity[]>(memoryIds.map((id) => [id, []]));
    const wanted = uuidsOnly(memoryIds);
    if (wanted.length === 0) return result;
    const memoryKeys = wanted.map((id) => memoryKey(orgId, id));
    const records = await this.read(
      async (tx) => (await tx.run(CYPHER.entitiesOfMemories, { orgId, memoryKeys })).records,
    );
    const byMemory = new Map<string, Entity[]>();
    for (const record of records) {
      const memoryId = record.get('memoryId') as string;
      byMemory.set(memoryId, [...(byMemory.get(memoryId) ?? []), parseEntity(record.get('entity'))]);
    }
    for (const id of memoryIds) result.set(id, [...(byMemory.get(id.toLowerCase()) ?? [])]);
    return result;
  }

  // ---- deletes -----------------------------------------------------------------------

  async deleteByMemories(orgId: string, memoryIds: readonly string[]): Promise<number> {
    checkOrg(orgId);
    const doomed = uuidsOnly(memoryIds);
    if (doomed.length === 0) return 0;
    return this.write((tx) => forgetMemories(tx, orgId, doomed));
  }

  async deleteByActor(orgId: string, actorId: string): Promise<number> {
    checkOrg(orgId);
    return this.forgetScope(orgId, checkScope({ level: 'ACTOR', id: actorId }));
  }

  async deleteScope(orgId: string, scope: Scope): Promise<void> {
    checkOrg(orgId);
    await this.forgetScope(orgId, checkScope(scope));
  }

  async deleteOrg(orgId: string): Promise<void> {
    checkOrg(orgId);
    const params = { orgId, batch: neo4j.int(DELETE_BATCH) };
    await this.withSession('WRITE', async (session) => {
      // Batches of one transaction each, so a large org never needs one huge transaction.
      for (const statement of [
        CYPHER.deleteOrgEntitiesBatch,
        CYPHER.deleteOrgNamesBatch,
        CYPHER.deleteOrgMemoriesBatch,
      ]) {
        for (;;) {
          const deleted = await session.executeWrite(async (tx) =>
            countOf((await tx.run(statement, params)).records[0], 'deleted'),
          );
          if (deleted < DELETE_BATCH) break;
        }
      }
    });
  }

  /**
   * Everything of one scope: what its memories said (mentions, relationship sources), then
   * the entities registered at that scope (with their names, relationships and every mention
   * of them), in batches of one transaction each. Returns the mentions removed.
   */
  private async forgetScope(orgId: string, scope: Scope): Promise<number> {
    const params = { orgId, scopeKey: scopeKey(scope), batch: neo4j.int(DELETE_BATCH) };
    return this.withSession('WRITE', async (session) => {
      let mentions = 0;
      for (;;) {
        const { memories, removed } = await session.executeWrite(async (tx) => {
          const found = (await tx.run(CYPHER.memoriesOfScope, params)).records.map(
            (record) => record.get('memoryId') as string,
          );
          return {
            memories: found.length,
            removed: found.length > 0 ? await forgetMemories(tx, orgId, found) : 0,
          };
        });
        mentions += removed;
        if (memories < DELETE_BATCH) break;
      }
      for (;;) {
        const { entities, removed } = await session.executeWrite(async (tx) => {
          const record = (await tx.run(CYPHER.deleteEntitiesOfScopeBatch, params)).records[0];
          return { entities: countOf(record, 'entities'), removed: countOf(record, 'mentions') };
        });
        mentions += removed;
        if (entities < DELETE_BATCH) break;
      }
      return mentions;
    });
  }

  /** Fails the transaction (before any write) unless every id is an entity of the org. */
  private async assertEntitiesOfOrg(
    tx: ManagedTransaction,
    orgId: string,
    ids: string[],
    message: string,
  ): Promise<void> {
    const result = await tx.run(CYPHER.missingEntities, { orgId, ids: [...new Set(ids)] });
    const missing = (result.records[0]?.get('missing') as string[] | undefined) ?? [];
    if (missing.length > 0) throw new BadUserInputError(message, { entityIds: missing });
  }

  private read<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    return this.withSession('READ', (session) => session.executeRead(work));
  }

  private write<T>(work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    return this.withSession('WRITE', (session) => session.executeWrite(work));
  }

  /** One session per operation, always closed; its statements run one after the other. */
  private async withSession<T>(mode: 'READ' | 'WRITE', work: (session: Session) => Promise<T>): Promise<T> {
    const session = this.driver.session({
      database: this.database,
      defaultAccessMode: mode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE,
    });
    try {
      return await work(session);
    } finally {
      await session.close();
    }
  }
}

/**
 * Removes the mentions of these memories and what the graph learned from them (see
 * CYPHER.forgetLearnedRelationships), in the caller's transaction. Returns mentions removed.
 */
async function forgetMemories(
  tx: ManagedTransaction,
  orgId: string,
  memoryIds: readonly string[],
): Promise<number> {
  const memoryKeys = memoryIds.map((id) => memoryKey(orgId, id));
  await tx.run(CYPHER.forgetLearnedRelationships, { orgId, memoryKeys, memoryIds });
  return countOf((await tx.run(CYPHER.deleteMemories, { orgId, memoryKeys })).records[0], 'mentions');
}

/** Adds aliases as given (trimmed), unique by normalized form, never the name itself. */
function addAliases(row: EntityRow, aliases: readonly unknown[]): void {
  for (const raw of aliases) {
    if (typeof raw !== 'string') throw new BadUserInputError('aliases must be strings', { field: 'aliases' });
    const alias = raw.trim();
    const normalized = normalizeName(alias);
    if (normalized === '' || normalized === row.normalizedName) continue;
    if (alias.length > MAX_NAME_LENGTH) {
      throw new BadUserInputError(`aliases must be at most ${MAX_NAME_LENGTH} characters`, {
        field: 'aliases',
      });
    }
    if (row.aliases.some((existing) => existing.normalized === normalized)) continue;
    row.aliases.push({ alias, normalized });
  }
}

/** Code-point order (the order the embedded store's uuid and text comparisons give for ids). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
