import type { DataSource, EntityManager } from 'typeorm';
import type { ItemOutcome, JobQueue, WorkItem, WorkPayload } from './job-queue';

type Queryable = Pick<DataSource | EntityManager, 'query'>;

/** {@link JobQueue} on Postgres: `memory.job_items` claimed with FOR UPDATE SKIP LOCKED and a lease. */
export class PostgresJobQueue implements JobQueue {
  constructor(private readonly db: Queryable) {}

  async claim(limit: number, leaseSeconds: number): Promise<WorkItem[]> {
    const rows = (await this.db.query(
      `WITH next AS (
         SELECT item_id FROM memory.job_items
         -- queued and not waiting out a retry backoff, or running with an expired lease
         WHERE status IN ('queued', 'running') AND (leased_until IS NULL OR leased_until < now())
         ORDER BY priority, item_id
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE memory.job_items i
         SET status = 'running', attempts = i.attempts + 1, leased_until = now() + make_interval(secs => $2)
         FROM next WHERE i.item_id = next.item_id
         RETURNING i.item_id, i.job_id, i.org_id, i.priority, i.payload, i.attempts
       ), started AS (
         UPDATE memory.jobs SET status = 'RUNNING', started_at = coalesce(started_at, now()), updated_at = now()
         WHERE job_id IN (SELECT job_id FROM claimed) AND status = 'QUEUED'
       )
       SELECT * FROM claimed ORDER BY priority, item_id`,
      [limit, leaseSeconds],
    )) as Array<{
      item_id: string;
      job_id: string;
      org_id: string;
      priority: number;
      payload: WorkPayload;
      attempts: number;
    }>;
    return rows.map((row) => ({
      itemId: String(row.item_id),
      jobId: row.job_id,
      orgId: row.org_id,
      priority: row.priority,
      payload: row.payload,
      attempts: row.attempts,
    }));
  }

  async setStage(jobIds: readonly string[], stage: string): Promise<void> {
    if (jobIds.length === 0) return;
    await this.db.query(
      `UPDATE memory.jobs SET stage = $2, updated_at = now() WHERE job_id = ANY($1::text[]) AND status = 'RUNNING'`,
      [jobIds, stage],
    );
  }

  async finish(outcomes: readonly ItemOutcome[], maxAttempts: number): Promise<void> {
    if (outcomes.length === 0) return;
    await this.db.query(
      `WITH outcome AS (
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS o(item_id bigint, ok boolean, error text)
       ), updated AS (
         UPDATE memory.job_items i
         SET status = CASE WHEN o.ok THEN 'done' WHEN i.attempts >= $2 THEN 'failed' ELSE 'queued' END,
             error = o.error,
             -- a failed attempt waits a little before its retry
             leased_until = CASE WHEN o.ok OR i.attempts >= $2 THEN NULL ELSE now() + make_interval(secs => i.attempts) END
         FROM outcome o
         WHERE i.item_id = o.item_id AND i.status = 'running'
         RETURNING i.job_id, i.status, i.error
       ), per_job AS (
         SELECT job_id,
                count(*) FILTER (WHERE status IN ('done', 'failed')) AS processed,
                count(*) FILTER (WHERE status = 'failed') AS failed,
                coalesce(jsonb_agg(error) FILTER (WHERE status = 'failed'), '[]'::jsonb) AS errors
         FROM updated GROUP BY job_id
       )
       UPDATE memory.jobs j
       SET processed = j.processed + p.processed,
           failed = j.failed + p.failed,
           errors = CASE WHEN jsonb_array_length(j.errors) < 100 THEN j.errors || p.errors ELSE j.errors END,
           status = CASE WHEN j.processed + p.processed >= j.total
                         THEN CASE WHEN j.failed + p.failed >= j.total THEN 'FAILED' ELSE 'DONE' END
                         ELSE j.status END,
           stage = CASE WHEN j.processed + p.processed >= j.total THEN 'done' ELSE j.stage END,
           finished_at = CASE WHEN j.processed + p.processed >= j.total THEN now() ELSE NULL END,
           updated_at = now()
       FROM per_job p WHERE j.job_id = p.job_id`,
      [
        JSON.stringify(
          outcomes.map((o) => ({ item_id: Number(o.itemId), ok: o.ok, error: o.ok ? null : o.error })),
        ),
        maxAttempts,
      ],
    );
  }
}
