import type { DataSource, EntityManager } from 'typeorm';
import type { MemoryCategory } from '../extraction/types';
import type { MemoryStore, Scope } from './memory-store';
import { PostgresMemoryStore } from './postgres-memory-store';
import type {
  JobUpdate,
  PromotedMemoryUpdate,
  PromotionCandidate,
  PromotionRun,
  PromotionStore,
  ScheduledOrg,
  StoredPromotionSettings,
} from './promotion-store';

type Queryable = Pick<DataSource | EntityManager, 'query'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Current, unexpired, non-document memories (what promotion reads and matches). */
const CURRENT = `valid_to IS NULL AND document_id IS NULL AND (expires_at IS NULL OR expires_at > now())`;
const CANDIDATE_COLUMNS = `id, scope_level, scope_id, content, category, embedding::real[] AS embedding,
  source_event_ids, source_memory_ids, created_at, metadata`;

/** {@link PromotionStore} on Postgres + pgvector (a server or the embedded PGlite). */
export class PostgresPromotionStore implements PromotionStore {
  constructor(
    private readonly db: Queryable,
    private readonly dataSource?: DataSource,
  ) {}

  async transaction<T>(work: (promotions: PromotionStore, memories: MemoryStore) => Promise<T>): Promise<T> {
    if (!this.dataSource) return work(this, new PostgresMemoryStore(this.db));
    return this.dataSource.transaction((manager) =>
      work(new PostgresPromotionStore(manager), new PostgresMemoryStore(manager)),
    );
  }

  async lockOrg(orgId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO memory.promotion_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING`,
      [orgId],
    );
    await this.db.query(`SELECT 1 FROM memory.promotion_settings WHERE org_id = $1 FOR UPDATE`, [orgId]);
  }

  async actorsWithMemories(orgId: string): Promise<string[]> {
    const rows = (await this.db.query(
      `SELECT DISTINCT scope_id FROM memory.memories
       WHERE org_id = $1 AND scope_level = 'ACTOR' AND ${CURRENT} ORDER BY scope_id`,
      [orgId],
    )) as Array<{ scope_id: string }>;
    return rows.map((row) => row.scope_id);
  }

  async orgsWithActorMemories(): Promise<string[]> {
    const rows = (await this.db.query(
      `SELECT DISTINCT org_id FROM memory.memories WHERE scope_level = 'ACTOR' AND ${CURRENT} ORDER BY org_id`,
    )) as Array<{ org_id: string }>;
    return rows.map((row) => row.org_id);
  }

  async scheduledOrgs(defaultIntervalSeconds: number): Promise<ScheduledOrg[]> {
    // Orgs with an interval of their own, and (only when the default is on) every org with
    // actor memories; then those with an interval above 0 and actor memories, each with its
    // latest real run (by creation: runs start in order).
    const rows = (await this.db.query(
      `SELECT o.org_id, coalesce(s.interval_seconds, $1::integer) AS interval_seconds,
         extract(epoch FROM now() - last.finished_at)::float8 AS since_last_run,
         (last.job_id IS NOT NULL AND last.finished_at IS NULL) AS running
       FROM (
         SELECT org_id FROM memory.promotion_settings WHERE interval_seconds > 0
         UNION
         SELECT DISTINCT org_id FROM memory.memories
         WHERE $1::integer > 0 AND scope_level = 'ACTOR' AND ${CURRENT}
       ) o
       LEFT JOIN memory.promotion_settings s ON s.org_id = o.org_id
       LEFT JOIN LATERAL (
         SELECT j.job_id, j.finished_at FROM memory.promotion_runs r JOIN memory.jobs j ON j.job_id = r.job_id
         WHERE r.org_id = o.org_id AND NOT r.dry_run
         ORDER BY r.created_at DESC, r.job_id DESC LIMIT 1
       ) last ON true
       WHERE coalesce(s.interval_seconds, $1::integer) > 0
         AND EXISTS (SELECT 1 FROM memory.memories m
                     WHERE m.org_id = o.org_id AND m.scope_level = 'ACTOR' AND ${CURRENT})
       ORDER BY o.org_id`,
      [defaultIntervalSeconds],
    )) as Array<{
      org_id: string;
      interval_seconds: number;
      since_last_run: number | string | null;
      running: boolean;
    }>;
    return rows.map((row) => ({
      orgId: row.org_id,
      intervalSeconds: Number(row.interval_seconds),
      secondsSinceLastRun: row.since_last_run === null ? null : Math.max(0, Number(row.since_last_run)),
      running: row.running,
    }));
  }

  async smallestOrgInterval(): Promise<number | null> {
    const rows = (await this.db.query(
      `SELECT min(interval_seconds) AS smallest FROM memory.promotion_settings WHERE interval_seconds > 0`,
    )) as Array<{ smallest: number | null }>;
    const smallest = rows[0]?.smallest;
    return smallest === null || smallest === undefined ? null : Number(smallest);
  }

  async candidates(
    orgId: string,
    scopes: readonly Scope[],
    embeddingModel: string,
    limit: number,
  ): Promise<PromotionCandidate[]> {
    if (scopes.length === 0) return [];
    const rows = (await this.db.query(
      `SELECT * FROM (
         SELECT ${CANDIDATE_COLUMNS} FROM memory.memories
         WHERE org_id = $1 AND (scope_level, scope_id) IN (SELECT * FROM unnest($2::text[], $3::text[]))
           AND embedding_model = $4 AND ${CURRENT}
         ORDER BY created_at DESC, id DESC LIMIT $5) newest
       ORDER BY created_at, id`,
      [orgId, scopes.map((scope) => scope.level), scopes.map((scope) => scope.id), embeddingModel, limit],
    )) as CandidateRow[];
    return rows.map(toCandidate);
  }

  async getCandidates(ids: readonly string[]): Promise<PromotionCandidate[]> {
    const valid = ids.filter((id) => UUID.test(id));
    if (valid.length === 0) return [];
    const rows = (await this.db.query(
      `SELECT ${CANDIDATE_COLUMNS} FROM memory.memories
       WHERE id = ANY($1::uuid[]) AND embedding IS NOT NULL AND ${CURRENT} ORDER BY created_at, id`,
      [valid],
    )) as CandidateRow[];
    return rows.map(toCandidate);
  }

  async promotedFrom(
    orgId: string,
    scope: Scope,
    sourceIds: readonly string[],
  ): Promise<PromotionCandidate[]> {
    const valid = sourceIds.filter((id) => UUID.test(id));
    if (valid.length === 0) return [];
    const rows = (await this.db.query(
      `SELECT ${CANDIDATE_COLUMNS},
         cardinality(ARRAY(SELECT unnest(source_memory_ids) INTERSECT SELECT unnest($4::uuid[]))) AS shared
       FROM memory.memories
       WHERE org_id = $1 AND scope_level = $2 AND scope_id = $3 AND ${CURRENT}
         AND cardinality(source_memory_ids) > 0 AND source_memory_ids && $4::uuid[]
       ORDER BY shared DESC, created_at, id`,
      [orgId, scope.level, scope.id, valid],
    )) as CandidateRow[];
    return rows.map(toCandidate);
  }

  async updatePromoted(id: string, update: PromotedMemoryUpdate): Promise<void> {
    await this.db.query(
      `UPDATE memory.memories SET
         source_memory_ids = ARRAY(SELECT DISTINCT s FROM unnest(source_memory_ids || $2::uuid[]) s ORDER BY s),
         source_event_ids = ARRAY(SELECT DISTINCT e FROM unnest(source_event_ids || $3::text[]) e ORDER BY e),
         metadata = metadata || jsonb_build_object('promotion', $4::jsonb)
       WHERE id = $1`,
      [id, update.sourceMemoryIds, update.eventIds, JSON.stringify(update.promotion)],
    );
  }

  async getSettings(orgId: string): Promise<StoredPromotionSettings | null> {
    const rows = (await this.db.query(`SELECT * FROM memory.promotion_settings WHERE org_id = $1`, [
      orgId,
    ])) as SettingsRow[];
    return rows[0] ? toSettings(rows[0]) : null;
  }

  async saveSettings(
    orgId: string,
    patch: Partial<Omit<StoredPromotionSettings, 'orgId' | 'updatedAt'>>,
  ): Promise<StoredPromotionSettings> {
    const columns = {
      min_actor_support: patch.minActorSupport,
      min_group_support: patch.minGroupSupport,
      cluster_similarity: patch.clusterSimilarity,
      min_score: patch.minScore,
      interval_seconds: patch.intervalSeconds,
    };
    const given = Object.entries(columns).filter(([, value]) => value !== undefined);
    await this.db.query(
      `INSERT INTO memory.promotion_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING`,
      [orgId],
    );
    // Column names come from the fixed map above, never from input.
    const sets = [...given.map(([column], i) => `${column} = $${i + 2}`), 'updated_at = now()'];
    // TypeORM answers an UPDATE … RETURNING with [rows, affected count].
    const [rows] = (await this.db.query(
      `UPDATE memory.promotion_settings SET ${sets.join(', ')} WHERE org_id = $1 RETURNING *`,
      [orgId, ...given.map(([, value]) => value)],
    )) as [SettingsRow[], number];
    return toSettings(rows[0]!);
  }

  async insertRun(run: Omit<PromotionRun, 'createdAt' | 'proposals'>): Promise<void> {
    await this.db.query(
      `INSERT INTO memory.promotion_runs (job_id, org_id, dry_run, judge, settings) VALUES ($1, $2, $3, $4, $5)`,
      [run.jobId, run.orgId, run.dryRun, run.judge, JSON.stringify(run.settings)],
    );
  }

  async saveProposals(jobId: string, proposals: readonly unknown[]): Promise<void> {
    await this.db.query(`UPDATE memory.promotion_runs SET proposals = $2 WHERE job_id = $1`, [
      jobId,
      JSON.stringify(proposals),
    ]);
  }

  async getRun(jobId: string): Promise<PromotionRun | null> {
    const rows = (await this.db.query(`SELECT * FROM memory.promotion_runs WHERE job_id = $1`, [
      jobId,
    ])) as Array<{
      job_id: string;
      org_id: string;
      dry_run: boolean;
      judge: string;
      settings: Record<string, unknown>;
      proposals: unknown[];
      created_at: Date;
    }>;
    const row = rows[0];
    if (!row) return null;
    return {
      jobId: row.job_id,
      orgId: row.org_id,
      dryRun: row.dry_run,
      judge: row.judge,
      settings: row.settings,
      proposals: row.proposals ?? [],
      createdAt: new Date(row.created_at),
    };
  }

  async updateJob(jobId: string, update: JobUpdate): Promise<void> {
    const sets: string[] = ['updated_at = now()'];
    const params: unknown[] = [jobId];
    const set = (column: string, value: unknown) => {
      params.push(value);
      sets.push(`${column} = $${params.length}`);
    };
    if (update.status !== undefined) set('status', update.status);
    if (update.stage !== undefined) set('stage', update.stage);
    if (update.processed !== undefined) set('processed', update.processed);
    if (update.total !== undefined) set('total', update.total);
    if (update.failed !== undefined) set('failed', update.failed);
    if (update.errors !== undefined) set('errors', JSON.stringify(update.errors.slice(0, 100)));
    if (update.message !== undefined) set('message', update.message);
    if (update.started) sets.push('started_at = coalesce(started_at, now())');
    if (update.finished) sets.push('finished_at = now()');
    await this.db.query(`UPDATE memory.jobs SET ${sets.join(', ')} WHERE job_id = $1`, params);
  }

  async failStaleJobs(olderThanSeconds: number): Promise<number> {
    const [, count] = (await this.db.query(
      `UPDATE memory.jobs SET status = 'FAILED', stage = 'done', finished_at = now(), updated_at = now(),
         message = 'interrupted: the process running it stopped'
       WHERE kind = 'PROMOTE_MEMORIES' AND status IN ('QUEUED', 'RUNNING')
         AND updated_at < now() - make_interval(secs => $1)`,
      [olderThanSeconds],
    )) as [unknown[], number];
    return count;
  }
}

interface CandidateRow {
  id: string;
  scope_level: Scope['level'];
  scope_id: string;
  content: string;
  category: MemoryCategory;
  embedding: number[];
  source_event_ids: string[];
  source_memory_ids: string[];
  created_at: Date;
  metadata: Record<string, unknown>;
}

function toCandidate(row: CandidateRow): PromotionCandidate {
  return {
    id: row.id,
    scope: { level: row.scope_level, id: row.scope_id },
    content: row.content,
    category: row.category,
    embedding: Float32Array.from(row.embedding),
    eventIds: row.source_event_ids ?? [],
    sourceMemoryIds: row.source_memory_ids ?? [],
    createdAt: new Date(row.created_at),
    metadata: row.metadata ?? {},
  };
}

interface SettingsRow {
  org_id: string;
  min_actor_support: number | null;
  min_group_support: number | null;
  cluster_similarity: number | null;
  min_score: number | null;
  interval_seconds: number | null;
  updated_at: Date;
}

function toSettings(row: SettingsRow): StoredPromotionSettings {
  return {
    orgId: row.org_id,
    minActorSupport: row.min_actor_support,
    minGroupSupport: row.min_group_support,
    clusterSimilarity: row.cluster_similarity === null ? null : Number(row.cluster_similarity),
    minScore: row.min_score === null ? null : Number(row.min_score),
    intervalSeconds: row.interval_seconds,
    updatedAt: new Date(row.updated_at),
  };
}
