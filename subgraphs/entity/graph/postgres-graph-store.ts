import type { DataSource, EntityManager } from 'typeorm';
import { BadUserInputError } from '../../../common/errors';
import {
  openSubgraphDatabase,
  type DatabaseTarget,
  type SubgraphDatabaseOptions,
} from '../../../common/db/data-source';
import { CreateEntityGraph1764000000000 } from '../migrations/1764000000000-create-entity-graph';
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

/** The entity subgraph's Postgres schema and migrations (shared by the subgraph, tests and bench). */
export const ENTITY_DATABASE: SubgraphDatabaseOptions = {
  schema: 'entity',
  entities: [],
  migrations: [CreateEntityGraph1764000000000],
};

type Queryable = Pick<DataSource | EntityManager, 'query'>;

const SCOPE_LEVELS: readonly ScopeLevel[] = ['ACTOR', 'ROLE', 'TEAM', 'ORG', 'WORLD'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_NAME_LENGTH = 500;
const MAX_SCOPE_ID_LENGTH = 200;
const MAX_PAGE = 10_000;
/** shortestPath gives up beyond this many hops (the port's contract). */
const MAX_PATH_HOPS = 6;

/** Columns of an entity row, aliases included (in the order they were added). */
const ENTITY_COLUMNS = `e.id, e.org_id, e.scope_level, e.scope_id, e.name, e.normalized_name, e.type, e.created_at,
  ARRAY(SELECT a.alias FROM entity.aliases a WHERE a.entity_id = e.id ORDER BY a.seq) AS aliases`;
const RELATIONSHIP_COLUMNS = `r.id, r.org_id, r.from_id, r.to_id, r.type, r.memory_id, r.created_at`;

/**
 * {@link GraphStore} on plain tables in Postgres (the embedded PGlite or a server), in the
 * schema `entity` (see the migration). Graph walks are recursive CTEs over an undirected view
 * of the relationships; every node a walk enters, including the intermediate ones, must be in
 * the allowed scopes. Parameterised SQL only: identifiers are fixed in this file.
 *
 * Writes are single statements or idempotent sequences of them, so they are safe under
 * concurrency (several connections, several processes) without explicit locks: entity and
 * relationship identities are unique keys, inserted with ON CONFLICT DO NOTHING in key order
 * (no deadlocks between batches) and read back in a later statement, which sees rows a
 * concurrent writer committed meanwhile.
 */
export class PostgresGraphStore implements GraphStore {
  /**
   * @param dataSource an open DataSource whose database has ENTITY_DATABASE's migrations
   *   applied. close() destroys it only when `owned` (see {@link PostgresGraphStore.open}).
   */
  constructor(
    private readonly dataSource: DataSource,
    private readonly owned = false,
  ) {}

  /** Opens (and migrates) the `entity` schema on a database; the store owns the connection. */
  static async open(target: DatabaseTarget): Promise<PostgresGraphStore> {
    return new PostgresGraphStore(await openSubgraphDatabase(target, ENTITY_DATABASE), true);
  }

  private get db(): Queryable {
    return this.dataSource;
  }

  // ---- writes ------------------------------------------------------------------------

  async upsertEntities(orgId: string, entities: readonly EntityInput[]): Promise<Entity[]> {
    assertOrg(orgId);
    if (entities.length === 0) return [];
    // One row per identity (first spelling of the name wins), with the union of its aliases.
    const keys: Array<{
      k: number;
      scope_level: string;
      scope_id: string;
      type: string;
      name: string;
      normalized_name: string;
    }> = [];
    const keyIndex = new Map<string, number>();
    const inputKeys: number[] = [];
    const aliases: Array<{ k: number; ord: number; alias: string; normalized_alias: string }> = [];
    const seenAliases = new Set<string>();
    for (const input of entities) {
      assertScope(input.scope);
      assertEntityType(input.type);
      const name = cleanName(input.name, 'name');
      const normalized = normalizeName(name);
      const identity = JSON.stringify([input.scope.level, input.scope.id, input.type, normalized]);
      let k = keyIndex.get(identity);
      if (k === undefined) {
        k = keys.length;
        keyIndex.set(identity, k);
        keys.push({
          k,
          scope_level: input.scope.level,
          scope_id: input.scope.id,
          type: input.type,
          name,
          normalized_name: normalized,
        });
      }
      inputKeys.push(k);
      for (const raw of input.aliases ?? []) {
        assertText(raw, 'aliases');
        const alias = raw.trim();
        const normalizedAlias = normalizeName(alias);
        if (normalizedAlias === '' || normalizedAlias === normalized) continue;
        if (alias.length > MAX_NAME_LENGTH)
          throw new BadUserInputError(`aliases must be at most ${MAX_NAME_LENGTH} characters`);
        if (seenAliases.has(`${k}\u0000${normalizedAlias}`)) continue;
        seenAliases.add(`${k}\u0000${normalizedAlias}`);
        aliases.push({ k, ord: aliases.length, alias, normalized_alias: normalizedAlias });
      }
    }
    // Key order, the same in every caller: concurrent batches lock rows in one order.
    const insertOrder = [...keys]
      .sort((a, b) => compareTuples(entityIdentity(a), entityIdentity(b)))
      .map((key, ord) => ({ ...key, ord }));

    for (let attempt = 0; ; attempt++) {
      await this.db.query(
        `INSERT INTO entity.entities (org_id, scope_level, scope_id, type, name, normalized_name)
         SELECT $1, i.scope_level, i.scope_id, i.type, i.name, i.normalized_name
         FROM jsonb_to_recordset($2::jsonb)
           AS i(ord int, scope_level text, scope_id text, type text, name text, normalized_name text)
         ORDER BY i.ord
         ON CONFLICT ON CONSTRAINT entities_identity_key DO NOTHING`,
        [orgId, JSON.stringify(insertOrder)],
      );
      // A later statement: it sees entities a concurrent upsert committed after ours started.
      const rows = (await this.db.query(
        `WITH input AS (
           SELECT * FROM jsonb_to_recordset($2::jsonb)
             AS i(k int, scope_level text, scope_id text, type text, normalized_name text)),
         found AS (
           SELECT i.k, e.* FROM input i
           CROSS JOIN LATERAL (
             SELECT * FROM entity.entities e
             WHERE e.org_id = $1 AND e.scope_level = i.scope_level AND e.scope_id = i.scope_id
               AND e.type = i.type AND e.normalized_name = i.normalized_name
             LIMIT 1) e),
         added AS (
           INSERT INTO entity.aliases (entity_id, org_id, alias, normalized_alias)
           SELECT f.id, $1, a.alias, a.normalized_alias
           FROM jsonb_to_recordset($3::jsonb) AS a(k int, ord int, alias text, normalized_alias text)
           JOIN found f ON f.k = a.k
           ORDER BY f.id, a.normalized_alias
           ON CONFLICT (entity_id, normalized_alias) DO NOTHING
           RETURNING entity_id, alias, seq)
         SELECT e.k, e.id, e.org_id, e.scope_level, e.scope_id, e.name, e.normalized_name, e.type, e.created_at,
           ARRAY(SELECT x.alias FROM (
             SELECT a.alias, a.seq FROM entity.aliases a WHERE a.entity_id = e.id
             UNION ALL SELECT n.alias, n.seq FROM added n WHERE n.entity_id = e.id) x ORDER BY x.seq) AS aliases
         FROM found e`,
        [orgId, JSON.stringify(keys), JSON.stringify(aliases)],
      )) as Array<EntityRow & { k: number }>;
      const byKey = new Map(rows.map((row) => [row.k, toEntity(row)]));
      if (byKey.size === keys.length) return inputKeys.map((k) => byKey.get(k)!);
      // Deleted by a concurrent deleteOrg / deleteScope between the two statements: redo.
      if (attempt >= 2) throw new Error('entities vanished while being upserted (concurrent delete)');
    }
  }

  async upsertRelationships(
    orgId: string,
    relationships: readonly RelationshipInput[],
  ): Promise<Relationship[]> {
    assertOrg(orgId);
    if (relationships.length === 0) return [];
    const keys: Array<{ k: number; from_id: string; to_id: string; type: string }> = [];
    const keyIndex = new Map<string, number>();
    const inputKeys: number[] = [];
    const sources: Array<{ k: number; memory_id: string | null }> = [];
    const seenSources = new Set<string>();
    for (const input of relationships) {
      if (typeof input.type !== 'string' || !RELATIONSHIP_TYPE.test(input.type))
        throw new BadUserInputError(
          'relationship type must be upper case letters, digits and underscores (at most 50, starting with a letter)',
          { field: 'type' },
        );
      assertUuid(input.fromId, 'fromId');
      assertUuid(input.toId, 'toId');
      if (input.memoryId != null) assertUuid(input.memoryId, 'memoryId');
      const fromId = input.fromId.toLowerCase();
      const toId = input.toId.toLowerCase();
      const identity = `${fromId} ${toId} ${input.type}`;
      let k = keyIndex.get(identity);
      if (k === undefined) {
        k = keys.length;
        keyIndex.set(identity, k);
        keys.push({ k, from_id: fromId, to_id: toId, type: input.type });
      }
      inputKeys.push(k);
      const memoryId = input.memoryId?.toLowerCase() ?? null;
      const source = `${k} ${memoryId}`;
      if (!seenSources.has(source)) {
        seenSources.add(source);
        sources.push({ k, memory_id: memoryId });
      }
    }
    const insertOrder = [...keys]
      .sort((a, b) => compareTuples([a.from_id, a.to_id, a.type], [b.from_id, b.to_id, b.type]))
      .map((key, ord) => ({ ...key, ord }));
    const sourceRows = sources.map((source, ord) => ({ ...source, ord }));

    const missing = (await this.db.query(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS i(k int, from_id uuid, to_id uuid, type text, ord int)),
       first_source AS (
         SELECT DISTINCT ON (s.k) s.k, s.memory_id
         FROM jsonb_to_recordset($3::jsonb) AS s(k int, memory_id uuid, ord int)
         ORDER BY s.k, s.memory_id IS NULL, s.ord),
       ends AS (SELECT from_id AS id FROM input UNION SELECT to_id FROM input),
       unknown AS (
         SELECT n.id FROM ends n
         LEFT JOIN LATERAL (
           SELECT true AS known FROM entity.entities e WHERE e.id = n.id AND e.org_id = $1 LIMIT 1) e ON true
         WHERE e.known IS NULL),
       inserted AS (
         INSERT INTO entity.relationships (org_id, from_id, to_id, type, memory_id, manual)
         SELECT $1, i.from_id, i.to_id, i.type, f.memory_id, f.memory_id IS NULL
         FROM input i JOIN first_source f ON f.k = i.k
         WHERE NOT EXISTS (SELECT 1 FROM unknown)
         ORDER BY i.ord
         ON CONFLICT ON CONSTRAINT relationships_identity_key DO NOTHING
         RETURNING id, memory_id),
       -- A new relationship and the memory it was learned from are written together.
       first_learned AS (
         INSERT INTO entity.relationship_sources (relationship_id, memory_id, org_id)
         SELECT id, memory_id, $1 FROM inserted WHERE memory_id IS NOT NULL)
       SELECT id FROM unknown`,
      [orgId, JSON.stringify(insertOrder), JSON.stringify(sourceRows)],
    )) as Array<{ id: string }>;
    if (missing.length > 0)
      throw new BadUserInputError('both ends of a relationship must be entities of the org', {
        entityIds: missing.map((row) => row.id),
      });

    const rows = (await this.db.query(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS i(k int, from_id uuid, to_id uuid, type text)),
       found AS (
         SELECT i.k, r.* FROM input i
         CROSS JOIN LATERAL (
           SELECT * FROM entity.relationships r
           WHERE r.org_id = $1 AND r.from_id = i.from_id AND r.to_id = i.to_id AND r.type = i.type
           LIMIT 1) r),
       src AS (SELECT * FROM jsonb_to_recordset($3::jsonb) AS s(k int, memory_id uuid)),
       learned AS (
         INSERT INTO entity.relationship_sources (relationship_id, memory_id, org_id)
         SELECT f.id, s.memory_id, $1 FROM src s JOIN found f ON f.k = s.k
         ORDER BY f.id, s.memory_id
         ON CONFLICT (relationship_id, memory_id) DO NOTHING),
       asserted AS (
         UPDATE entity.relationships r SET manual = true
         FROM found f
         WHERE r.id = f.id AND NOT r.manual AND f.k = ANY($4::int[]))
       SELECT r.k, ${RELATIONSHIP_COLUMNS} FROM found r`,
      [
        orgId,
        JSON.stringify(keys),
        JSON.stringify(sources.filter((source) => source.memory_id !== null)),
        sources.filter((source) => source.memory_id === null).map((source) => source.k),
      ],
    )) as Array<RelationshipRow & { k: number }>;
    const byKey = new Map(rows.map((row) => [row.k, toRelationship(row)]));
    return inputKeys.map((k) => {
      const relationship = byKey.get(k);
      // Only a concurrent delete of an end entity between the two statements gets here.
      if (!relationship) throw new BadUserInputError('a relationship end was deleted meanwhile');
      return relationship;
    });
  }

  async linkMentions(orgId: string, mentions: readonly MentionInput[]): Promise<void> {
    assertOrg(orgId);
    if (mentions.length === 0) return;
    const rows = new Map<string, Record<string, string | null>>();
    for (const mention of mentions) {
      assertUuid(mention.entityId, 'entityId');
      assertUuid(mention.memoryId, 'memoryId');
      assertScope(mention.memoryScope);
      if (mention.documentId != null) assertText(mention.documentId, 'documentId');
      const entityId = mention.entityId.toLowerCase();
      const memoryId = mention.memoryId.toLowerCase();
      const key = `${entityId} ${memoryId}`;
      if (!rows.has(key))
        rows.set(key, {
          entity_id: entityId,
          memory_id: memoryId,
          scope_level: mention.memoryScope.level,
          scope_id: mention.memoryScope.id,
          document_id: mention.documentId ?? null,
        });
    }
    const sorted = [...rows.entries()]
      .sort(([a], [b]) => compareTuples([a], [b]))
      .map(([, row], ord) => ({ ...row, ord }));
    const unknown = (await this.db.query(
      `WITH input AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb)
           AS i(ord int, entity_id uuid, memory_id uuid, scope_level text, scope_id text, document_id text)),
       unknown AS (
         SELECT DISTINCT i.entity_id AS id FROM input i
         LEFT JOIN LATERAL (
           SELECT true AS known FROM entity.entities e WHERE e.id = i.entity_id AND e.org_id = $1 LIMIT 1) e ON true
         WHERE e.known IS NULL),
       inserted AS (
         INSERT INTO entity.mentions (entity_id, memory_id, org_id, memory_scope_level, memory_scope_id, document_id)
         SELECT i.entity_id, i.memory_id, $1, i.scope_level, i.scope_id, i.document_id
         FROM input i WHERE NOT EXISTS (SELECT 1 FROM unknown)
         ORDER BY i.ord
         ON CONFLICT (entity_id, memory_id) DO NOTHING)
       SELECT id FROM unknown`,
      [orgId, JSON.stringify(sorted)],
    )) as Array<{ id: string }>;
    if (unknown.length > 0)
      throw new BadUserInputError('mentions must link entities of the org', {
        entityIds: unknown.map((row) => row.id),
      });
  }

  // ---- reads -------------------------------------------------------------------------

  async resolveNames(
    orgId: string,
    names: readonly string[],
    scopes: readonly Scope[],
  ): Promise<Map<string, Entity[]>> {
    assertOrg(orgId);
    scopes.forEach(assertScope);
    const result = new Map<string, Entity[]>(names.map((name) => [name, []]));
    // A name that cannot be stored cannot have been registered either.
    const normalized = [...new Set(names.filter(isStorableText).map(normalizeName).filter(Boolean))];
    if (normalized.length === 0 || scopes.length === 0) return result;
    const rows = (await this.db.query(`SELECT o_key, o_entity FROM entity.resolve_names($1, $2, $3)`, [
      orgId,
      normalized,
      scopeKeys(scopes),
    ])) as Array<{ o_key: string; o_entity: EntityJson }>;
    const byKey = new Map<string, Entity[]>();
    for (const row of rows) {
      const list = byKey.get(row.o_key) ?? [];
      list.push(entityFromJson(row.o_entity));
      byKey.set(row.o_key, list);
    }
    for (const name of names)
      if (isStorableText(name)) result.set(name, [...(byKey.get(normalizeName(name)) ?? [])]);
    return result;
  }

  async getEntities(orgId: string, ids: readonly string[]): Promise<Entity[]> {
    assertOrg(orgId);
    const wanted = uuidsOnly(ids);
    if (wanted.length === 0) return [];
    const rows = (await this.db.query(
      `SELECT ${ENTITY_COLUMNS} FROM entity.entities e WHERE e.org_id = $1 AND e.id = ANY($2::uuid[])`,
      [orgId, wanted],
    )) as EntityRow[];
    const byId = new Map(rows.map((row) => [row.id, toEntity(row)]));
    return wanted.flatMap((id) => byId.get(id) ?? []);
  }

  async findEntities(orgId: string, query: EntityQuery): Promise<Entity[]> {
    assertOrg(orgId);
    if (!Number.isInteger(query.first) || query.first < 0 || query.first > MAX_PAGE)
      throw new BadUserInputError(`first must be an integer from 0 to ${MAX_PAGE}`, { field: 'first' });
    if (query.type !== undefined) assertEntityType(query.type);
    query.scopes?.forEach(assertScope);
    if (query.first === 0 || query.scopes?.length === 0) return [];
    if (query.search !== undefined) assertText(query.search, 'search');
    const search = query.search === undefined ? null : normalizeName(query.search);
    if (query.after && !UUID.test(query.after.id)) return [];
    const rows = (await this.db.query(
      `SELECT ${ENTITY_COLUMNS} FROM entity.entities e
       WHERE e.org_id = $1
         AND ($2::text IS NULL OR e.type = $2)
         AND ($3::text IS NULL OR strpos(e.normalized_name, $3) > 0
              OR EXISTS (SELECT 1 FROM entity.aliases a WHERE a.entity_id = e.id AND strpos(a.normalized_alias, $3) > 0))
         AND ($4::text[] IS NULL OR e.scope_level || ':' || e.scope_id = ANY($4::text[]))
         AND ($5::timestamptz IS NULL OR (e.created_at, e.id) > ($5::timestamptz, $6::uuid))
       ORDER BY e.created_at, e.id
       LIMIT $7`,
      [
        orgId,
        query.type ?? null,
        search || null,
        query.scopes ? scopeKeys(query.scopes) : null,
        query.after?.createdAt ?? null,
        query.after?.id ?? null,
        query.first,
      ],
    )) as EntityRow[];
    return rows.map(toEntity);
  }

  async neighbours(
    orgId: string,
    entityId: string,
    depth: number,
    scopes: readonly Scope[],
  ): Promise<Subgraph> {
    assertOrg(orgId);
    if (!Number.isInteger(depth) || depth < 1 || depth > 3)
      throw new BadUserInputError('depth must be 1, 2 or 3', { field: 'depth' });
    scopes.forEach(assertScope);
    if (!isUuid(entityId) || scopes.length === 0) return { entities: [], relationships: [] };
    // Breadth-first, depth-limited and cycle-safe, entering only entities of the scopes: see
    // the function entity.neighbours in the migration.
    const [row] = (await this.db.query(
      `SELECT o_entities AS entities, o_relationships AS relationships FROM entity.neighbours($1, $2, $3, $4)`,
      [orgId, entityId, depth, scopeKeys(scopes)],
    )) as Array<{ entities: EntityJson[]; relationships: RelationshipJson[] }>;
    return {
      entities: row!.entities.map(entityFromJson),
      relationships: row!.relationships.map(relationshipFromJson),
    };
  }

  async shortestPath(
    orgId: string,
    fromId: string,
    toId: string,
    scopes: readonly Scope[],
  ): Promise<Subgraph | null> {
    assertOrg(orgId);
    scopes.forEach(assertScope);
    if (!isUuid(fromId) || !isUuid(toId) || scopes.length === 0) return null;
    // Bidirectional breadth-first search through entities of the scopes only: see the
    // function entity.shortest_path in the migration.
    const [row] = (await this.db.query(
      `SELECT o_entities AS entities, o_relationships AS relationships FROM entity.shortest_path($1, $2, $3, $4, $5)`,
      [orgId, fromId, toId, scopeKeys(scopes), MAX_PATH_HOPS],
    )) as Array<{ entities: EntityJson[] | null; relationships: RelationshipJson[] }>;
    if (!row?.entities) return null;
    return {
      entities: row.entities.map(entityFromJson),
      relationships: row.relationships.map(relationshipFromJson),
    };
  }

  async mentionsOf(orgId: string, entityIds: readonly string[]): Promise<Map<string, string[]>> {
    assertOrg(orgId);
    const result = new Map<string, string[]>(entityIds.map((id) => [id, []]));
    const wanted = uuidsOnly(entityIds);
    if (wanted.length === 0) return result;
    const rows = (await this.db.query(
      `SELECT m.entity_id, m.memory_id FROM entity.mentions m
       WHERE m.org_id = $1 AND m.entity_id = ANY($2::uuid[])
       ORDER BY m.entity_id, m.created_at, m.memory_id`,
      [orgId, wanted],
    )) as Array<{ entity_id: string; memory_id: string }>;
    const byEntity = groupBy(rows, (row) => row.entity_id);
    for (const id of entityIds)
      result.set(
        id,
        (byEntity.get(id.toLowerCase()) ?? []).map((row) => row.memory_id),
      );
    return result;
  }

  async entitiesOfMemories(orgId: string, memoryIds: readonly string[]): Promise<Map<string, Entity[]>> {
    assertOrg(orgId);
    const result = new Map<string, Entity[]>(memoryIds.map((id) => [id, []]));
    const wanted = uuidsOnly(memoryIds);
    if (wanted.length === 0) return result;
    const rows = (await this.db.query(
      `SELECT m.memory_id, ${ENTITY_COLUMNS}
       FROM entity.mentions m JOIN entity.entities e ON e.id = m.entity_id AND e.org_id = $1
       WHERE m.org_id = $1 AND m.memory_id = ANY($2::uuid[])
       ORDER BY m.memory_id, m.created_at, e.id`,
      [orgId, wanted],
    )) as Array<EntityRow & { memory_id: string }>;
    const byMemory = groupBy(rows, (row) => row.memory_id);
    for (const id of memoryIds) result.set(id, (byMemory.get(id.toLowerCase()) ?? []).map(toEntity));
    return result;
  }

  // ---- deletes -----------------------------------------------------------------------

  async deleteByMemories(orgId: string, memoryIds: readonly string[]): Promise<number> {
    assertOrg(orgId);
    const doomed = uuidsOnly(memoryIds);
    if (doomed.length === 0) return 0;
    return this.dataSource.transaction((manager) => forgetMemories(manager, orgId, doomed));
  }

  async deleteByActor(orgId: string, actorId: string): Promise<number> {
    assertOrg(orgId);
    assertScope({ level: 'ACTOR', id: actorId });
    return this.dataSource.transaction(async (manager) => {
      const removed = await forgetScope(manager, orgId, { level: 'ACTOR', id: actorId });
      return removed;
    });
  }

  async deleteScope(orgId: string, scope: Scope): Promise<void> {
    assertOrg(orgId);
    assertScope(scope);
    await this.dataSource.transaction((manager) => forgetScope(manager, orgId, scope));
  }

  async deleteOrg(orgId: string): Promise<void> {
    assertOrg(orgId);
    await this.dataSource.transaction(async (manager) => {
      // Children first, each through its org index; the cascades then find nothing left.
      for (const table of ['relationship_sources', 'mentions', 'relationships', 'aliases', 'entities'])
        await manager.query(`DELETE FROM entity.${table} WHERE org_id = $1`, [orgId]);
    });
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.owned && this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

// ---- deletes shared by several operations -------------------------------------------

/**
 * Removes the mentions of these memories and what the graph learned from them: their
 * relationship sources, and each relationship left with no source (unless it was asserted
 * without a memory). Relationships that another memory still supports stay, pointing at it.
 * Returns the number of mentions removed.
 */
async function forgetMemories(db: Queryable, orgId: string, memoryIds: readonly string[]): Promise<number> {
  const [row] = (await db.query(
    `WITH gone_mentions AS (
       DELETE FROM entity.mentions WHERE org_id = $1 AND memory_id = ANY($2::uuid[]) RETURNING 1),
     gone_sources AS (
       DELETE FROM entity.relationship_sources WHERE org_id = $1 AND memory_id = ANY($2::uuid[])
       RETURNING relationship_id)
     SELECT (SELECT count(*) FROM gone_mentions)::int AS mentions,
            (SELECT coalesce(array_agg(DISTINCT relationship_id), '{}') FROM gone_sources) AS touched`,
    [orgId, memoryIds],
  )) as Array<{ mentions: number; touched: string[] }>;
  const touched = row!.touched;
  if (touched.length > 0) {
    // A later statement: it sees the sources removed above.
    await db.query(
      `WITH orphans AS (
         DELETE FROM entity.relationships r
         WHERE r.org_id = $1 AND r.id = ANY($2::uuid[]) AND NOT r.manual
           AND NOT EXISTS (SELECT 1 FROM entity.relationship_sources s WHERE s.relationship_id = r.id)
         RETURNING r.id)
       UPDATE entity.relationships r
       SET memory_id = (SELECT s.memory_id FROM entity.relationship_sources s
                        WHERE s.relationship_id = r.id ORDER BY s.created_at, s.memory_id LIMIT 1)
       WHERE r.org_id = $1 AND r.id = ANY($2::uuid[]) AND r.memory_id = ANY($3::uuid[])
         AND r.id NOT IN (SELECT id FROM orphans)`,
      [orgId, touched, memoryIds],
    );
  }
  return row!.mentions;
}

/**
 * Removes everything of one scope: what was learned from the memories of that scope (their
 * mentions, relationship sources), and the entities registered at that scope (with their
 * aliases, relationships and every mention of them, by cascade). Returns mentions removed.
 */
async function forgetScope(db: Queryable, orgId: string, scope: Scope): Promise<number> {
  const memories = (await db.query(
    `SELECT DISTINCT memory_id FROM entity.mentions
     WHERE org_id = $1 AND memory_scope_level = $2 AND memory_scope_id = $3`,
    [orgId, scope.level, scope.id],
  )) as Array<{ memory_id: string }>;
  let removed = 0;
  if (memories.length > 0)
    removed += await forgetMemories(
      db,
      orgId,
      memories.map((row) => row.memory_id),
    );
  const [row] = (await db.query(
    `WITH doomed AS (
       SELECT id FROM entity.entities WHERE org_id = $1 AND scope_level = $2 AND scope_id = $3),
     gone_mentions AS (
       DELETE FROM entity.mentions m USING doomed d WHERE m.entity_id = d.id RETURNING 1),
     gone_entities AS (
       DELETE FROM entity.entities e USING doomed d WHERE e.id = d.id RETURNING 1)
     SELECT (SELECT count(*) FROM gone_mentions)::int AS mentions`,
    [orgId, scope.level, scope.id],
  )) as Array<{ mentions: number }>;
  return removed + row!.mentions;
}

// ---- validation --------------------------------------------------------------------

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Postgres text cannot hold NUL, and JSON parameters cannot carry lone surrogates. */
function isStorableText(value: unknown): value is string {
  return typeof value === 'string' && !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

function assertText(value: unknown, field: string): asserts value is string {
  if (!isStorableText(value))
    throw new BadUserInputError(`${field} must be text without NUL characters`, { field });
}

function assertOrg(orgId: string): void {
  assertText(orgId, 'orgId');
  if (orgId === '') throw new BadUserInputError('orgId is required');
}

function assertScope(scope: Scope): void {
  if (!scope || !SCOPE_LEVELS.includes(scope.level))
    throw new BadUserInputError(`scope level must be one of ${SCOPE_LEVELS.join(', ')}`, { field: 'scope' });
  assertText(scope.id, 'scope');
  if (scope.id === '' || scope.id.length > MAX_SCOPE_ID_LENGTH)
    throw new BadUserInputError(`scope id must be 1 to ${MAX_SCOPE_ID_LENGTH} characters`, {
      field: 'scope',
    });
}

function assertEntityType(type: string): asserts type is EntityType {
  if (!(ENTITY_TYPES as readonly string[]).includes(type))
    throw new BadUserInputError(`entity type must be one of ${ENTITY_TYPES.join(', ')}`, { field: 'type' });
}

function cleanName(name: string, field: string): string {
  assertText(name, field);
  const trimmed = name.trim();
  if (normalizeName(trimmed) === '') throw new BadUserInputError(`${field} must not be empty`, { field });
  if (trimmed.length > MAX_NAME_LENGTH)
    throw new BadUserInputError(`${field} must be at most ${MAX_NAME_LENGTH} characters`, { field });
  return trimmed;
}

/** `LEVEL:id` per scope: levels have no ':' so the key is unambiguous; matched with = ANY. */
function scopeKeys(scopes: readonly Scope[]): string[] {
  return [...new Set(scopes.map((scope) => `${scope.level}:${scope.id}`))];
}

function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

function assertUuid(value: unknown, field: string): asserts value is string {
  if (!isUuid(value)) throw new BadUserInputError(`${field} must be a UUID`, { field });
}

/** Distinct, lower-cased ids that can be uuids: anything else names nothing. */
function uuidsOnly(ids: readonly string[]): string[] {
  return [...new Set(ids.filter(isUuid).map((id) => id.toLowerCase()))];
}

function entityIdentity(key: {
  scope_level: string;
  scope_id: string;
  type: string;
  normalized_name: string;
}): string[] {
  return [key.scope_level, key.scope_id, key.type, key.normalized_name];
}

/** Code-point order of tuples of strings: every writer sorts its batch this way. */
function compareTuples(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]! < b[i]!) return -1;
    if (a[i]! > b[i]!) return 1;
  }
  return a.length - b.length;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const list = groups.get(key(row));
    if (list) list.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}

// ---- rows --------------------------------------------------------------------------

interface EntityRow {
  id: string;
  org_id: string;
  scope_level: ScopeLevel;
  scope_id: string;
  name: string;
  normalized_name: string;
  type: EntityType;
  created_at: Date;
  aliases: string[];
}

interface RelationshipRow {
  id: string;
  org_id: string;
  from_id: string;
  to_id: string;
  type: string;
  memory_id: string | null;
  created_at: Date;
}

/** The same rows through json_agg: timestamps arrive as strings. */
type EntityJson = Omit<EntityRow, 'created_at'> & { created_at: string };
type RelationshipJson = Omit<RelationshipRow, 'created_at'> & { created_at: string };

function toEntity(row: EntityRow): Entity {
  return {
    id: row.id,
    orgId: row.org_id,
    scope: { level: row.scope_level, id: row.scope_id },
    name: row.name,
    normalizedName: row.normalized_name,
    type: row.type,
    aliases: row.aliases ?? [],
    createdAt: row.created_at,
  };
}

function toRelationship(row: RelationshipRow): Relationship {
  return {
    id: row.id,
    orgId: row.org_id,
    fromId: row.from_id,
    toId: row.to_id,
    type: row.type,
    memoryId: row.memory_id,
    createdAt: row.created_at,
  };
}

function entityFromJson(row: EntityJson): Entity {
  return toEntity({ ...row, created_at: new Date(row.created_at) });
}

function relationshipFromJson(row: RelationshipJson): Relationship {
  return toRelationship({ ...row, created_at: new Date(row.created_at) });
}
