import { createHash } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { EntityMention, MemoryCategory } from '../extraction/types';
import type {
  ContextCandidates,
  ContextSearch,
  DocumentVersion,
  ForgetCounts,
  Job,
  JobStatus,
  KeysetPage,
  Memory,
  MemoryFilter,
  MemoryStore,
  NewMemory,
  Scope,
  SimilarMemory,
  StoredEvent,
} from './memory-store';
import { PRIORITY, type WorkPayload } from '../queue/job-queue';
import { vectorParam } from './vector';

type Queryable = Pick<DataSource | EntityManager, 'query'>;

const MEMORY_COLUMNS = `id, org_id, scope_level, scope_id, actor_id, content, category, embedding_model,
  source_event_ids, document_id, document_version, chunk_index, source_memory_ids,
  valid_from, valid_to, superseded_by, expires_at, created_at, metadata`;

/** Memories that exist for readers: not expired. (Closed ones are history, filtered separately.) */
const NOT_EXPIRED = `(expires_at IS NULL OR expires_at > now())`;

export interface VectorSearchOptions {
  /**
   * ORG and WORLD scopes with at least this many current memories are searched through the
   * HNSW index (approximate); smaller scopes, and every ACTOR, ROLE and TEAM scope, by an
   * exact scan of the scope's rows. Measured crossover in BENCHMARKS.md. @default 10000
   */
  hnswMinRows: number;
  /** How long a measured scope size is trusted. @default 60 s */
  scopeSizeTtlMs: number;
}

const DEFAULT_VECTOR_SEARCH: VectorSearchOptions = { hnswMinRows: 10_000, scopeSizeTtlMs: 60_000 };
/** Candidates the HNSW scan examines at least (pgvector's ef_search). */
const HNSW_EF_SEARCH = 200;
/** Model ids that may appear as a literal in the HNSW index predicate. */
const SAFE_MODEL_ID = /^[A-Za-z0-9._:/-]{1,100}$/;

type ScopeSizes = Map<string, { rows: number; measuredAt: number }>;

/** {@link MemoryStore} on Postgres + pgvector (a server or the embedded PGlite). */
export class PostgresMemoryStore implements MemoryStore {
  private readonly vectorSearch: VectorSearchOptions;
  /** `org, level, scope` → current memories and when they were counted. */
  private readonly scopeSizes: ScopeSizes;

  constructor(
    private readonly db: Queryable,
    private readonly dataSource?: DataSource,
    vectorSearch: Partial<VectorSearchOptions> = {},
    scopeSizes?: ScopeSizes,
  ) {
    this.vectorSearch = { ...DEFAULT_VECTOR_SEARCH, ...vectorSearch };
    this.scopeSizes = scopeSizes ?? new Map();
  }

  async transaction<T>(work: (store: MemoryStore) => Promise<T>): Promise<T> {
    if (!this.dataSource) return work(this); // already inside one
    return this.dataSource.transaction((manager) =>
      work(new PostgresMemoryStore(manager, undefined, this.vectorSearch, this.scopeSizes)),
    );
  }

  /**
   * Creates, once, the HNSW index that serves large ORG and WORLD scopes for one embedding
   * model: a partial index on that model's vectors cast to their fixed dimension (the column
   * holds vectors of every model and size). Returns false for a model id it will not quote.
   */
  async ensureVectorIndex(embeddingModel: string, dimensions: number): Promise<boolean> {
    if (!SAFE_MODEL_ID.test(embeddingModel) || !Number.isInteger(dimensions) || dimensions < 1) return false;
    await this.db.query(
      `CREATE INDEX IF NOT EXISTS ${hnswIndexName(embeddingModel)} ON memory.memories
       USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops)
       WHERE embedding_model = '${embeddingModel}' AND scope_level IN ('ORG', 'WORLD')`,
    );
    return true;
  }

  // ---- events and documents ----------------------------------------------------------

  async insertEvents(events: readonly StoredEvent[], jobId: string): Promise<string[]> {
    if (events.length === 0) return [];
    const rows = (await this.db.query(
      `INSERT INTO memory.events (org_id, event_id, actor_id, session_id, kind, content, role_id, team_id, occurred_at, metadata, job_id)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(org_id text, event_id text, actor_id text, session_id text, kind text,
         content text, role_id text, team_id text, occurred_at timestamptz, metadata jsonb, job_id text)
       ON CONFLICT (org_id, event_id) DO NOTHING
       RETURNING event_id`,
      [
        JSON.stringify(
          events.map((e) => ({
            org_id: e.orgId,
            event_id: e.eventId,
            actor_id: e.actorId,
            session_id: e.sessionId,
            kind: e.kind,
            content: e.content,
            role_id: e.roleId,
            team_id: e.teamId,
            occurred_at: e.occurredAt.toISOString(),
            metadata: e.metadata,
            job_id: jobId,
          })),
        ),
      ],
    )) as Array<{ event_id: string }>;
    return rows.map((row) => row.event_id);
  }

  async getEvents(orgId: string, eventIds: readonly string[]): Promise<StoredEvent[]> {
    if (eventIds.length === 0) return [];
    const rows = (await this.db.query(
      `SELECT * FROM memory.events WHERE org_id = $1 AND event_id = ANY($2::text[])`,
      [orgId, eventIds],
    )) as EventRow[];
    return rows.map(toEvent);
  }

  async currentDocuments(orgId: string, documentIds: readonly string[]): Promise<DocumentVersion[]> {
    if (documentIds.length === 0) return [];
    const rows = (await this.db.query(
      `SELECT DISTINCT ON (document_id) * FROM memory.documents
       WHERE org_id = $1 AND document_id = ANY($2::text[])
       ORDER BY document_id, version DESC`,
      [orgId, documentIds],
    )) as DocumentRow[];
    return rows.map(toDocument);
  }

  async getDocumentVersion(
    orgId: string,
    documentId: string,
    version: number,
  ): Promise<DocumentVersion | null> {
    const rows = (await this.db.query(
      `SELECT * FROM memory.documents WHERE org_id = $1 AND document_id = $2 AND version = $3`,
      [orgId, documentId, version],
    )) as DocumentRow[];
    return rows[0] ? toDocument(rows[0]) : null;
  }

  async insertDocumentVersion(document: DocumentVersion): Promise<void> {
    await this.db.query(
      `INSERT INTO memory.documents (org_id, document_id, version, scope_level, scope_id, content, content_hash, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        document.orgId,
        document.documentId,
        document.version,
        document.scope.level,
        document.scope.id,
        document.content,
        document.contentHash,
        JSON.stringify(document.metadata),
      ],
    );
  }

  // ---- memories -----------------------------------------------------------------------

  async insertMemory(memory: NewMemory): Promise<{ id: string; inserted: boolean }> {
    // A document chunk is keyed by (document, version, chunk); any other memory by its
    // content at its scope. Either way a repeat (a resumed job) merges provenance.
    const conflict =
      memory.provenance.documentId !== null
        ? `(org_id, document_id, document_version, chunk_index) WHERE document_id IS NOT NULL DO NOTHING`
        : `(org_id, scope_level, scope_id, content_hash) WHERE valid_to IS NULL AND document_id IS NULL
           DO UPDATE SET source_event_ids = ARRAY(SELECT DISTINCT unnest(memory.memories.source_event_ids || EXCLUDED.source_event_ids))`;
    const rows = (await this.db.query(
      `INSERT INTO memory.memories (org_id, scope_level, scope_id, actor_id, content, content_hash, category,
         embedding, embedding_model, source_event_ids, document_id, document_version, chunk_index,
         source_memory_ids, valid_from, expires_at, metadata)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8::vector, $9, $10::text[], $11, $12, $13, $14::uuid[], $15, $16, $17)
       ON CONFLICT ${conflict}
       RETURNING id, (xmax = 0) AS inserted`,
      [
        memory.orgId,
        memory.scope.level,
        memory.scope.id,
        memory.actorId,
        memory.content,
        memory.contentHash,
        memory.category,
        memory.embedding ? vectorParam(memory.embedding) : null,
        memory.embeddingModel,
        memory.provenance.eventIds,
        memory.provenance.documentId,
        memory.provenance.documentVersion,
        memory.provenance.chunkIndex,
        memory.provenance.sourceMemoryIds,
        memory.validFrom,
        memory.expiresAt,
        JSON.stringify(memory.metadata),
      ],
    )) as Array<{ id: string; inserted: boolean }>;
    let row = rows[0];
    if (!row) {
      // DO NOTHING on a repeated document chunk returns no row: look the chunk up.
      const existing = (await this.db.query(
        `SELECT id FROM memory.memories WHERE org_id = $1 AND document_id = $2 AND document_version = $3 AND chunk_index = $4`,
        [
          memory.orgId,
          memory.provenance.documentId,
          memory.provenance.documentVersion,
          memory.provenance.chunkIndex,
        ],
      )) as Array<{ id: string }>;
      row = { id: existing[0]!.id, inserted: false };
    }
    if (row.inserted && memory.mentions.length > 0)
      await this.insertMentions(row.id, memory.orgId, memory.mentions);
    return row;
  }

  private async insertMentions(
    memoryId: string,
    orgId: string,
    mentions: readonly EntityMention[],
  ): Promise<void> {
    await this.db.query(
      `INSERT INTO memory.memory_mentions (memory_id, org_id, name, normalized_name, type)
       SELECT $1, $2, m.name, m.normalized_name, m.type
       FROM jsonb_to_recordset($3::jsonb) AS m(name text, normalized_name text, type text)
       ON CONFLICT DO NOTHING`,
      [
        memoryId,
        orgId,
        JSON.stringify(
          mentions.map((m) => ({ name: m.name, normalized_name: normalizeName(m.name), type: m.type })),
        ),
      ],
    );
  }

  async addEventProvenance(memoryId: string, eventIds: readonly string[]): Promise<void> {
    await this.db.query(
      `UPDATE memory.memories SET source_event_ids = ARRAY(SELECT DISTINCT unnest(source_event_ids || $2::text[]))
       WHERE id = $1`,
      [memoryId, eventIds],
    );
  }

  async closeMemory(id: string, supersededBy: string | null, at: Date): Promise<void> {
    await this.db.query(
      `UPDATE memory.memories SET valid_to = $3, superseded_by = $2 WHERE id = $1 AND valid_to IS NULL`,
      [id, supersededBy, at],
    );
  }

  /** Current memories of one document version, by chunk index. */
  async documentMemories(
    orgId: string,
    documentId: string,
    version: number,
  ): Promise<Array<{ id: string; chunkIndex: number }>> {
    const rows = (await this.db.query(
      `SELECT id, chunk_index FROM memory.memories
       WHERE org_id = $1 AND document_id = $2 AND document_version = $3 AND valid_to IS NULL`,
      [orgId, documentId, version],
    )) as Array<{ id: string; chunk_index: number }>;
    return rows.map((row) => ({ id: row.id, chunkIndex: row.chunk_index }));
  }

  async markDocumentReplaced(
    orgId: string,
    documentId: string,
    beforeVersion: number,
    at: Date,
  ): Promise<void> {
    await this.db.query(
      `UPDATE memory.documents SET replaced_at = $4
       WHERE org_id = $1 AND document_id = $2 AND version < $3 AND replaced_at IS NULL`,
      [orgId, documentId, beforeVersion, at],
    );
  }

  async findSimilar(
    orgId: string,
    scope: Scope,
    embeddingModel: string,
    embedding: Float32Array,
    limit: number,
  ): Promise<SimilarMemory[]> {
    // Ordered by the raw distance operator so an HNSW index can serve it later (STYLE 10).
    const rows = (await this.db.query(
      `SELECT id, content, category, 1 - (embedding <=> $5::vector) AS similarity
       FROM memory.memories
       WHERE org_id = $1 AND scope_level = $2 AND scope_id = $3 AND embedding_model = $4
         AND valid_to IS NULL AND document_id IS NULL AND ${NOT_EXPIRED}
       ORDER BY embedding <=> $5::vector
       LIMIT $6`,
      [orgId, scope.level, scope.id, embeddingModel, vectorParam(embedding), limit],
    )) as Array<{ id: string; content: string; category: MemoryCategory; similarity: number }>;
    return rows.map((row) => ({ ...row, similarity: Number(row.similarity) }));
  }

  async getMemories(ids: readonly string[]): Promise<Memory[]> {
    const valid = ids.filter(isUuid);
    if (valid.length === 0) return [];
    const rows = (await this.db.query(
      `SELECT ${MEMORY_COLUMNS} FROM memory.memories WHERE id = ANY($1::uuid[]) AND ${NOT_EXPIRED}`,
      [valid],
    )) as MemoryRow[];
    return rows.map(toMemory);
  }

  async listMemories(filter: MemoryFilter, page: KeysetPage): Promise<Memory[]> {
    const where = ['org_id = $1', NOT_EXPIRED];
    const params: unknown[] = [filter.orgId];
    const add = (clause: (n: number) => string, value: unknown) => {
      params.push(value);
      where.push(clause(params.length));
    };
    if (!filter.includeClosed) where.push('valid_to IS NULL');
    if (filter.level) add((n) => `scope_level = $${n}`, filter.level);
    if (filter.scopeId) add((n) => `scope_id = $${n}`, filter.scopeId);
    if (filter.actorId) add((n) => `actor_id = $${n}`, filter.actorId);
    if (filter.documentId) add((n) => `document_id = $${n}`, filter.documentId);
    if (page.after) {
      params.push(page.after.createdAt, page.after.id);
      where.push(`(created_at, id) > ($${params.length - 1}, $${params.length}::uuid)`);
    }
    params.push(page.first);
    const rows = (await this.db.query(
      `SELECT ${MEMORY_COLUMNS} FROM memory.memories WHERE ${where.join(' AND ')}
       ORDER BY created_at, id LIMIT $${params.length}`,
      params,
    )) as MemoryRow[];
    return rows.map(toMemory);
  }

  async history(memoryIds: readonly string[]): Promise<Map<string, Memory[]>> {
    const valid = memoryIds.filter(isUuid);
    const result = new Map<string, Memory[]>(valid.map((id) => [id, []]));
    if (valid.length === 0) return result;
    // Walk superseded_by links backwards from each memory: everything it replaced, directly
    // or through earlier replacements.
    const rows = (await this.db.query(
      `WITH RECURSIVE chain(root, id, depth) AS (
         SELECT m.id, m.id, 0 FROM memory.memories m WHERE m.id = ANY($1::uuid[])
         UNION ALL
         SELECT c.root, p.id, c.depth + 1 FROM chain c JOIN memory.memories p ON p.superseded_by = c.id WHERE c.depth < 100
       )
       SELECT c.root, ${MEMORY_COLUMNS.split(',')
         .map((column) => `m.${column.trim()}`)
         .join(', ')}
       FROM chain c JOIN memory.memories m ON m.id = c.id
       -- the chain runs through expired memories, but they are never returned
       WHERE c.depth > 0 AND (m.expires_at IS NULL OR m.expires_at > now())
       ORDER BY c.root, m.valid_from, m.created_at`,
      [valid],
    )) as Array<MemoryRow & { root: string }>;
    for (const row of rows) result.get(row.root)?.push(toMemory(row));
    return result;
  }

  async mentions(memoryIds: readonly string[]): Promise<Map<string, EntityMention[]>> {
    const valid = memoryIds.filter(isUuid);
    const result = new Map<string, EntityMention[]>(valid.map((id) => [id, []]));
    if (valid.length === 0) return result;
    const rows = (await this.db.query(
      `SELECT memory_id, name, type FROM memory.memory_mentions WHERE memory_id = ANY($1::uuid[]) ORDER BY name`,
      [valid],
    )) as Array<{ memory_id: string; name: string; type: EntityMention['type'] }>;
    for (const row of rows) result.get(row.memory_id)?.push({ name: row.name, type: row.type });
    return result;
  }

  async deleteMemory(orgId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    // One transaction: the memory, and its id in the provenance of memories promoted from it.
    if (this.dataSource)
      return this.dataSource.transaction((manager) =>
        new PostgresMemoryStore(manager).deleteMemory(orgId, id),
      );
    // TypeORM answers a DELETE … RETURNING with [rows, affected count].
    const [rows] = (await this.db.query(
      `DELETE FROM memory.memories WHERE org_id = $1 AND id = $2 RETURNING source_event_ids`,
      [orgId, id],
    )) as [Array<{ source_event_ids: string[] }>, number];
    if (rows.length === 0) return false;
    await this.detachFromPromoted(orgId, { memoryIds: [id], eventIds: rows[0]!.source_event_ids ?? [] });
    return true;
  }

  async forgetActor(orgId: string, actorId: string): Promise<ForgetCounts> {
    // One transaction: the actor's rows, and every trace of them in promoted memories.
    if (this.dataSource)
      return this.dataSource.transaction((manager) =>
        new PostgresMemoryStore(manager).forgetActor(orgId, actorId),
      );
    const [counts] = (await this.db.query(
      `WITH doomed AS (
         SELECT id, embedding IS NOT NULL AS has_vector, source_event_ids FROM memory.memories
         WHERE org_id = $1 AND (actor_id = $2 OR (scope_level = 'ACTOR' AND scope_id = $2))
       ), links AS (
         DELETE FROM memory.memory_mentions WHERE memory_id IN (SELECT id FROM doomed) RETURNING 1
       ), gone AS (
         DELETE FROM memory.memories WHERE id IN (SELECT id FROM doomed) RETURNING 1
       ), events AS (
         DELETE FROM memory.events WHERE org_id = $1 AND actor_id = $2 RETURNING event_id
       )
       SELECT (SELECT count(*) FROM gone)::int AS memories,
              (SELECT count(*) FROM doomed WHERE has_vector)::int AS vectors,
              (SELECT count(*) FROM links)::int AS entity_links,
              (SELECT count(*) FROM events)::int AS events,
              ARRAY(SELECT id FROM doomed) AS memory_ids,
              ARRAY(SELECT DISTINCT e FROM doomed, unnest(doomed.source_event_ids) AS e) AS memory_event_ids,
              ARRAY(SELECT event_id FROM events) AS event_ids`,
      [orgId, actorId],
    )) as Array<{
      memories: number;
      vectors: number;
      entity_links: number;
      events: number;
      memory_ids: string[];
      memory_event_ids: string[];
      event_ids: string[];
    }>;
    // Promoted (role, team, org) memories name the actor in their provenance and support.
    await this.detachFromPromoted(orgId, {
      memoryIds: counts!.memory_ids,
      eventIds: counts!.memory_event_ids,
      forgottenEventIds: counts!.event_ids,
      actorId,
    });
    // Promotion runs keep their proposals (readable as promotionJob): the actor leaves them too.
    const without = (field: string, param: string) =>
      `(SELECT coalesce(jsonb_agg(x ORDER BY n), '[]') FROM jsonb_array_elements_text(p.proposal->'${field}')
          WITH ORDINALITY AS t(x, n) WHERE x NOT IN (SELECT unnest(${param})))`;
    const mentions = (proposal: string) =>
      `(${proposal}->'supporters' ? $2 OR ${proposal}->'sourceMemoryIds' ?| $3::text[] OR ${proposal}->'eventIds' ?| $4::text[])`;
    await this.db.query(
      `UPDATE memory.promotion_runs r SET proposals = (
         SELECT jsonb_agg(CASE WHEN ${mentions('p.proposal')} THEN p.proposal || jsonb_build_object(
             'supporters', ${without('supporters', 'ARRAY[$2::text]')},
             'support', jsonb_array_length(${without('supporters', 'ARRAY[$2::text]')}),
             'sourceMemoryIds', ${without('sourceMemoryIds', '$3::text[]')},
             'eventIds', ${without('eventIds', '$4::text[]')})
           ELSE p.proposal END ORDER BY p.i)
         FROM jsonb_array_elements(r.proposals) WITH ORDINALITY AS p(proposal, i))
       WHERE r.org_id = $1 AND jsonb_typeof(r.proposals) = 'array'
         AND EXISTS (SELECT 1 FROM jsonb_array_elements(r.proposals) AS q(proposal) WHERE ${mentions('q.proposal')})`,
      [orgId, actorId, counts!.memory_ids, [...new Set([...counts!.memory_event_ids, ...counts!.event_ids])]],
    );
    return {
      events: counts!.events,
      memories: counts!.memories,
      vectors: counts!.vectors,
      entityLinks: counts!.entity_links,
    };
  }

  /**
   * Takes deleted memories (and a forgotten actor) out of the memories promoted from them, in
   * the current transaction. Their ids leave `source_memory_ids`; their event ids leave
   * `source_event_ids` unless a remaining source still holds them (`forgottenEventIds`, the
   * deleted events of a forgotten actor, leave in any case); `metadata.promotion.supporters`
   * keeps the supporters a remaining source stands for (an actor id, or `ROLE:<id>` /
   * `TEAM:<id>`), never `actorId`, and `support` and `sourceLevels` follow. A promoted memory
   * left without sources is deleted (an ORG one bumps the org context version through the
   * trigger) and detached in turn from what was promoted from it (role memory, then org
   * memory); a memory that stood before it gained provenance only loses its promotion metadata.
   */
  private async detachFromPromoted(
    orgId: string,
    removed: { memoryIds: string[]; eventIds: string[]; forgottenEventIds?: string[]; actorId?: string },
  ): Promise<void> {
    const memoryIds = [...removed.memoryIds];
    const eventIds = [...removed.eventIds];
    // Each round settles one level up (a role memory's change reaches the org memory next round).
    for (let round = 0; round < 16; round += 1) {
      const [changed] = (await this.db.query(
        `WITH removed_memories AS (SELECT DISTINCT unnest($2::uuid[]) AS memory_id),
         removed_events AS (SELECT DISTINCT unnest($3::text[]) AS event_id),
         forgotten_events AS (SELECT DISTINCT unnest($4::text[]) AS event_id),
         affected AS (
           SELECT m.id, m.source_event_ids, m.metadata,
             ARRAY(SELECT s FROM unnest(m.source_memory_ids) WITH ORDINALITY AS t(s, n)
                   WHERE s NOT IN (SELECT memory_id FROM removed_memories)
                     AND EXISTS (SELECT 1 FROM memory.memories x WHERE x.id = s)
                   ORDER BY n) AS kept
           FROM memory.memories m
           WHERE m.org_id = $1 AND cardinality(m.source_memory_ids) > 0
             AND (m.source_memory_ids && $2::uuid[] OR m.source_event_ids && $3::text[]
               OR m.source_event_ids && $4::text[] OR m.metadata->'promotion'->'supporters' ? $5::text)
         ), next AS (
           SELECT a.*,
             ARRAY(SELECT e FROM unnest(a.source_event_ids) WITH ORDINALITY AS t(e, n)
                   WHERE e NOT IN (SELECT event_id FROM forgotten_events)
                     AND (e NOT IN (SELECT event_id FROM removed_events) OR EXISTS (
                       SELECT 1 FROM memory.memories x WHERE x.id = ANY(a.kept) AND e = ANY(x.source_event_ids)))
                   ORDER BY n) AS events,
             ARRAY(SELECT CASE WHEN x.scope_level = 'ACTOR' THEN x.scope_id ELSE x.scope_level || ':' || x.scope_id END
                   FROM memory.memories x WHERE x.id = ANY(a.kept)) AS backers,
             ARRAY(SELECT DISTINCT x.scope_level FROM memory.memories x WHERE x.id = ANY(a.kept) ORDER BY 1) AS levels
           FROM affected a
         ), settled AS (
           SELECT n.id, n.kept, n.events, CASE
             WHEN cardinality(n.kept) = 0 THEN n.metadata - 'promotion'
             WHEN jsonb_typeof(n.metadata->'promotion'->'supporters') IS DISTINCT FROM 'array' THEN n.metadata
             ELSE jsonb_set(n.metadata, '{promotion}', n.metadata->'promotion'
               || jsonb_build_object('supporters', s.supporters, 'support', jsonb_array_length(s.supporters))
               || CASE WHEN n.metadata->'promotion' ? 'sourceLevels'
                    THEN jsonb_build_object('sourceLevels', to_jsonb(n.levels)) ELSE '{}' END)
           END AS metadata
           FROM next n, LATERAL (
             SELECT coalesce(jsonb_agg(x ORDER BY i), '[]') AS supporters
             FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(n.metadata->'promotion'->'supporters') = 'array'
                    THEN n.metadata->'promotion'->'supporters' ELSE '[]' END) WITH ORDINALITY AS t(x, i)
             WHERE x = ANY(n.backers) AND x IS DISTINCT FROM $5::text) s
         )
         UPDATE memory.memories m SET source_memory_ids = s.kept, source_event_ids = s.events, metadata = s.metadata
         FROM settled s
         WHERE m.id = s.id
           AND (m.source_memory_ids, m.source_event_ids, m.metadata) IS DISTINCT FROM (s.kept, s.events, s.metadata)
         RETURNING m.id, cardinality(s.kept) = 0 AS orphan, m.metadata = '{}'::jsonb AS bare`,
        [orgId, memoryIds, eventIds, removed.forgottenEventIds ?? [], removed.actorId ?? null],
      )) as [Array<{ id: string; orphan: boolean; bare: boolean }>, number];
      if (changed.length === 0) return;
      // Left without sources and nothing but promotion: the promoted memory goes.
      const orphans = changed.filter((row) => row.orphan && row.bare).map((row) => row.id);
      if (orphans.length === 0) continue;
      const [gone] = (await this.db.query(
        `DELETE FROM memory.memories WHERE org_id = $1 AND id = ANY($2::uuid[]) RETURNING id, source_event_ids`,
        [orgId, orphans],
      )) as [Array<{ id: string; source_event_ids: string[] }>, number];
      for (const row of gone) {
        memoryIds.push(row.id);
        eventIds.push(...(row.source_event_ids ?? []));
      }
    }
    throw new Error('promoted memories did not settle after their sources were deleted');
  }

  async deleteOrg(orgId: string): Promise<void> {
    // Mentions go with their memories, queue items with their jobs (ON DELETE CASCADE).
    for (const table of ['memories', 'events', 'documents', 'jobs', 'promotion_settings']) {
      await this.db.query(`DELETE FROM memory.${table} WHERE org_id = $1`, [orgId]);
    }
  }

  async deleteScope(orgId: string, scope: Scope): Promise<void> {
    await this.db.query(
      `DELETE FROM memory.memories WHERE org_id = $1 AND scope_level = $2 AND scope_id = $3`,
      [orgId, scope.level, scope.id],
    );
    await this.db.query(
      `DELETE FROM memory.documents WHERE org_id = $1 AND scope_level = $2 AND scope_id = $3`,
      [orgId, scope.level, scope.id],
    );
  }

  // ---- jobs ---------------------------------------------------------------------------

  async insertJob(job: Job, payloads: readonly WorkPayload[]): Promise<void> {
    await this.db.query(
      `INSERT INTO memory.jobs (job_id, org_id, kind, priority, status, stage, processed, failed, total, errors, message, created_at, started_at, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [
        job.jobId,
        job.orgId,
        job.kind,
        job.priority,
        job.status,
        job.stage,
        job.processed,
        job.failed,
        job.total,
        JSON.stringify(job.errors),
        job.message,
        job.createdAt,
        job.startedAt,
        job.finishedAt,
      ],
    );
    if (payloads.length === 0) return;
    await this.db.query(
      `INSERT INTO memory.job_items (job_id, org_id, priority, payload)
       SELECT $1, $2, $3, p FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS t(p, n) ORDER BY n`,
      [job.jobId, job.orgId, PRIORITY[job.priority], JSON.stringify(payloads)],
    );
  }

  async getJobs(jobIds: readonly string[]): Promise<Job[]> {
    if (jobIds.length === 0) return [];
    const rows = (await this.db.query(`SELECT * FROM memory.jobs WHERE job_id = ANY($1::text[])`, [
      jobIds,
    ])) as JobRow[];
    return rows.map(toJob);
  }

  async listJobs(orgId: string, status: JobStatus | undefined, page: KeysetPage): Promise<Job[]> {
    const params: unknown[] = [orgId];
    const where = ['org_id = $1'];
    if (status) {
      params.push(status);
      where.push(`status = $${params.length}`);
    }
    if (page.after) {
      params.push(page.after.createdAt, page.after.id);
      where.push(`(created_at, job_id) < ($${params.length - 1}, $${params.length})`);
    }
    params.push(page.first);
    const rows = (await this.db.query(
      `SELECT * FROM memory.jobs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, job_id DESC LIMIT $${params.length}`,
      params,
    )) as JobRow[];
    return rows.map(toJob);
  }

  async searchContext(search: ContextSearch): Promise<ContextCandidates> {
    const result: ContextCandidates = { vector: [], lexical: [], entity: [], memories: new Map() };
    if (search.scopes.length === 0) return result;
    const approximate = await this.largeScopes(search);
    const exact = search.scopes.filter((scope) => !approximate.includes(scope));
    // One statement. Every signal is searched scope by scope (LATERAL), so each scope's lookup
    // is driven by the (org, level, scope) index and a scope's top list does not depend on
    // the other scopes searched with it (the org part can be cached on its own). Vector
    // candidates are ordered by the raw distance operator, an exact scan within the scope.
    const valid = `m.org_id = $1 AND m.scope_level = c.level AND m.scope_id = c.id
      AND m.valid_from <= $4 AND (m.valid_to IS NULL OR m.valid_to > $4)
      AND (m.expires_at IS NULL OR m.expires_at > now())`;
    const rows = (await this.db.query(
      `WITH chain(level, id) AS (SELECT * FROM unnest($2::text[], $3::text[])),
       hits AS (
         SELECT 'vector' AS signal, v.id, v.score, NULL::text[] AS names
         FROM unnest($10::text[], $11::text[]) AS c(level, id) CROSS JOIN LATERAL (
           SELECT m.id, 1 - (m.embedding <=> $6::vector) AS score FROM memory.memories m
           WHERE ${valid} AND m.embedding_model = $5
           ORDER BY m.embedding <=> $6::vector LIMIT $9) v
         UNION ALL
         SELECT 'lexical', l.id, l.score, NULL FROM chain c CROSS JOIN LATERAL (
           SELECT m.id, ts_rank_cd(m.search, q) AS score
           -- OFFSET 0 fences the scope's rows first: an OR of common words can match a good
           -- part of all memories, so going through the full-text index then filtering by
           -- scope reads far more rows than the scope holds.
           FROM (SELECT m.id, m.search, m.created_at FROM memory.memories m WHERE $7 <> '' AND ${valid} OFFSET 0) m,
             to_tsquery('english', $7) q
           WHERE m.search @@ q
           ORDER BY score DESC, m.created_at DESC LIMIT $9) l
         UNION ALL
         SELECT 'entity', e.id, e.score, e.names FROM chain c CROSS JOIN LATERAL (
           SELECT m.id, count(*)::float8 AS score, array_agg(DISTINCT mm.name) AS names
           FROM memory.memory_mentions mm JOIN memory.memories m ON m.id = mm.memory_id
           WHERE mm.org_id = $1 AND mm.normalized_name = ANY($8::text[]) AND ${valid}
           GROUP BY m.id ORDER BY score DESC LIMIT $9) e)
       SELECT h.signal, h.score, h.names, ${MEMORY_COLUMNS.split(',')
         .map((column) => `m.${column.trim()}`)
         .join(', ')}
       FROM hits h JOIN memory.memories m ON m.id = h.id`,
      [
        search.orgId,
        search.scopes.map((scope) => scope.level),
        search.scopes.map((scope) => scope.id),
        search.asOf,
        search.embeddingModel,
        vectorParam(search.queryVector),
        search.lexicalQuery,
        search.entityNames,
        search.limit,
        exact.map((scope) => scope.level),
        exact.map((scope) => scope.id),
      ],
    )) as Array<
      MemoryRow & { signal: 'vector' | 'lexical' | 'entity'; score: number; names: string[] | null }
    >;
    for (const scope of approximate) rows.push(...(await this.approximateNearest(search, scope)));
    for (const row of rows) {
      if (!result.memories.has(row.id)) result.memories.set(row.id, toMemory(row));
      const score = Number(row.score);
      if (row.signal === 'vector') {
        const viaIndex = approximate.some((s) => s.level === row.scope_level && s.id === row.scope_id);
        result.vector.push({ id: row.id, similarity: score, ...(viaIndex ? { approximate: true } : {}) });
      } else if (row.signal === 'lexical') result.lexical.push({ id: row.id, rank: score });
      else result.entity.push({ id: row.id, names: row.names ?? [] });
    }
    result.vector.sort((a, b) => b.similarity - a.similarity);
    result.lexical.sort((a, b) => b.rank - a.rank);
    result.entity.sort((a, b) => b.names.length - a.names.length);
    return result;
  }

  /** The ORG and WORLD scopes of a search large enough for the HNSW index (sizes cached). */
  private async largeScopes(search: ContextSearch): Promise<Scope[]> {
    if (!this.dataSource || !SAFE_MODEL_ID.test(search.embeddingModel)) return [];
    const large: Scope[] = [];
    for (const scope of search.scopes) {
      if (scope.level !== 'ORG' && scope.level !== 'WORLD') continue;
      const key = `${search.orgId}\u0000${scope.level}\u0000${scope.id}`;
      let size = this.scopeSizes.get(key);
      if (!size || Date.now() - size.measuredAt > this.vectorSearch.scopeSizeTtlMs) {
        const [row] = (await this.db.query(
          `SELECT count(*)::int AS rows FROM memory.memories
           WHERE org_id = $1 AND scope_level = $2 AND scope_id = $3 AND valid_to IS NULL`,
          [search.orgId, scope.level, scope.id],
        )) as Array<{ rows: number }>;
        size = { rows: row?.rows ?? 0, measuredAt: Date.now() };
        this.scopeSizes.set(key, size);
      }
      if (size.rows >= this.vectorSearch.hnswMinRows) large.push(scope);
    }
    return large;
  }

  /**
   * The nearest vectors of one large scope through the HNSW index: iterative scan (pgvector
   * 0.8) keeps walking the graph until enough rows pass the scope filter, and sorting is off
   * for this one transaction so the planner cannot fall back to an exact scan of the scope.
   */
  private async approximateNearest(search: ContextSearch, scope: Scope) {
    const dimensions = search.queryVector.length;
    return this.dataSource!.transaction(async (manager) => {
      // One round trip: set_config(…, true) is SET LOCAL.
      await manager.query(
        `SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),
                set_config('hnsw.ef_search', '${HNSW_EF_SEARCH}', true),
                set_config('enable_sort', 'off', true)`,
      );
      // Model and level are literals so the partial index's predicate provably applies.
      return (await manager.query(
        `SELECT 'vector' AS signal, 1 - (m.embedding <=> $4::vector) AS score, NULL AS names, ${MEMORY_COLUMNS}
         FROM memory.memories m
         WHERE m.embedding_model = '${search.embeddingModel}' AND m.scope_level = '${scope.level}'
           AND m.org_id = $1 AND m.scope_id = $2
           AND m.valid_from <= $3 AND (m.valid_to IS NULL OR m.valid_to > $3)
           AND (m.expires_at IS NULL OR m.expires_at > now())
         ORDER BY m.embedding::vector(${dimensions}) <=> $4::vector(${dimensions}) LIMIT $5`,
        [search.orgId, scope.id, search.asOf, vectorParam(search.queryVector), search.limit],
      )) as Array<MemoryRow & { signal: 'vector'; score: number; names: null }>;
    });
  }

  async orgContextVersion(orgId: string): Promise<number> {
    const rows = (await this.db.query(`SELECT version FROM memory.org_context_versions WHERE org_id = $1`, [
      orgId,
    ])) as Array<{ version: string }>;
    return rows[0] ? Number(rows[0].version) : 0;
  }

  async bumpOrgContextVersion(orgId: string): Promise<number> {
    const rows = (await this.db.query(
      `INSERT INTO memory.org_context_versions (org_id) VALUES ($1)
       ON CONFLICT (org_id) DO UPDATE SET version = memory.org_context_versions.version + 1, changed_at = now()
       RETURNING version`,
      [orgId],
    )) as Array<{ version: string }>;
    return Number(rows[0]!.version);
  }

  async pairwiseSimilarity(ids: readonly string[]): Promise<Map<string, number>> {
    const valid = ids.filter(isUuid);
    const rows = (await this.db.query(
      `SELECT a.id AS a, b.id AS b, 1 - (a.embedding <=> b.embedding) AS similarity
       FROM memory.memories a JOIN memory.memories b ON a.id < b.id AND a.embedding_model = b.embedding_model
       WHERE a.id = ANY($1::uuid[]) AND b.id = ANY($1::uuid[])`,
      [valid],
    )) as Array<{ a: string; b: string; similarity: number }>;
    return new Map(rows.map((row) => [`${row.a}|${row.b}`, Number(row.similarity)]));
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }
}

/** One HNSW index per embedding model, named by a hash of the model id. */
function hnswIndexName(embeddingModel: string): string {
  return `memories_hnsw_${createHash('sha256').update(embeddingModel).digest('hex').slice(0, 12)}`;
}

export function normalizeName(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
function isUuid(value: string): boolean {
  return UUID.test(value);
}

interface EventRow {
  org_id: string;
  event_id: string;
  actor_id: string;
  session_id: string;
  kind: StoredEvent['kind'];
  content: string;
  role_id: string | null;
  team_id: string | null;
  occurred_at: Date;
  metadata: Record<string, unknown>;
}

function toEvent(row: EventRow): StoredEvent {
  return {
    orgId: row.org_id,
    eventId: row.event_id,
    actorId: row.actor_id,
    sessionId: row.session_id,
    kind: row.kind,
    content: row.content,
    roleId: row.role_id,
    teamId: row.team_id,
    occurredAt: new Date(row.occurred_at),
    metadata: row.metadata ?? {},
  };
}

interface DocumentRow {
  org_id: string;
  document_id: string;
  version: number;
  scope_level: Scope['level'];
  scope_id: string;
  content: string;
  content_hash: string;
  metadata: Record<string, unknown>;
}

function toDocument(row: DocumentRow): DocumentVersion {
  return {
    orgId: row.org_id,
    documentId: row.document_id,
    version: row.version,
    scope: { level: row.scope_level, id: row.scope_id },
    content: row.content,
    contentHash: row.content_hash,
    metadata: row.metadata ?? {},
  };
}

interface MemoryRow {
  id: string;
  org_id: string;
  scope_level: Scope['level'];
  scope_id: string;
  actor_id: string | null;
  content: string;
  category: MemoryCategory;
  embedding_model: string | null;
  source_event_ids: string[];
  document_id: string | null;
  document_version: number | null;
  chunk_index: number | null;
  source_memory_ids: string[];
  valid_from: Date;
  valid_to: Date | null;
  superseded_by: string | null;
  expires_at: Date | null;
  created_at: Date;
  metadata: Record<string, unknown>;
}

function toMemory(row: MemoryRow): Memory {
  return {
    id: row.id,
    orgId: row.org_id,
    scope: { level: row.scope_level, id: row.scope_id },
    actorId: row.actor_id,
    content: row.content,
    category: row.category,
    embeddingModel: row.embedding_model,
    provenance: {
      eventIds: row.source_event_ids ?? [],
      documentId: row.document_id,
      documentVersion: row.document_version,
      chunkIndex: row.chunk_index,
      sourceMemoryIds: row.source_memory_ids ?? [],
    },
    validFrom: new Date(row.valid_from),
    validTo: row.valid_to ? new Date(row.valid_to) : null,
    supersededBy: row.superseded_by,
    expiresAt: row.expires_at ? new Date(row.expires_at) : null,
    createdAt: new Date(row.created_at),
    metadata: row.metadata ?? {},
  };
}

interface JobRow {
  job_id: string;
  org_id: string;
  kind: Job['kind'];
  priority: Job['priority'];
  status: JobStatus;
  stage: string | null;
  processed: number;
  failed: number;
  total: number;
  errors: string[];
  message: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  updated_at: Date;
}

function toJob(row: JobRow): Job {
  return {
    jobId: row.job_id,
    orgId: row.org_id,
    kind: row.kind,
    priority: row.priority,
    status: row.status,
    stage: row.stage,
    processed: row.processed,
    failed: row.failed,
    total: row.total,
    errors: row.errors ?? [],
    message: row.message,
    createdAt: new Date(row.created_at),
    startedAt: row.started_at ? new Date(row.started_at) : null,
    finishedAt: row.finished_at ? new Date(row.finished_at) : null,
    updatedAt: new Date(row.updated_at),
  };
}
