import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Memory promotion up the hierarchy (issue 6): per-org thresholds, one row per promotion run
 * (its proposals, readable after the job ends), promotion jobs in `memory.jobs`, and an index
 * that finds the promoted memory of a cluster by the source memories it was promoted from.
 */
export class Promotion1764300000000 implements MigrationInterface {
  name = 'Promotion1764300000000';

  async up(db: QueryRunner): Promise<void> {
    // NULL: the configured default (PROMOTION_* variables) applies.
    await db.query(`CREATE TABLE memory.promotion_settings (
      org_id text PRIMARY KEY,
      min_actor_support integer,
      min_group_support integer,
      cluster_similarity double precision,
      min_score double precision,
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE TABLE memory.promotion_runs (
      job_id text PRIMARY KEY REFERENCES memory.jobs(job_id) ON DELETE CASCADE,
      org_id text NOT NULL,
      dry_run boolean NOT NULL,
      judge text NOT NULL,
      settings jsonb NOT NULL,
      proposals jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE INDEX promotion_runs_org_idx ON memory.promotion_runs (org_id, created_at DESC)`);
    await db.query(`ALTER TABLE memory.jobs DROP CONSTRAINT jobs_kind_check`);
    await db.query(`ALTER TABLE memory.jobs ADD CONSTRAINT jobs_kind_check
      CHECK (kind IN ('INGEST_EVENTS', 'INGEST_DOCUMENTS', 'PROMOTE_MEMORIES'))`);
    await db.query(
      `CREATE INDEX memories_source_memories_idx ON memory.memories USING gin (source_memory_ids)
       WHERE cardinality(source_memory_ids) > 0`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX IF EXISTS memory.memories_source_memories_idx`);
    await db.query(`DELETE FROM memory.jobs WHERE kind = 'PROMOTE_MEMORIES'`);
    await db.query(`ALTER TABLE memory.jobs DROP CONSTRAINT jobs_kind_check`);
    await db.query(`ALTER TABLE memory.jobs ADD CONSTRAINT jobs_kind_check
      CHECK (kind IN ('INGEST_EVENTS', 'INGEST_DOCUMENTS'))`);
    await db.query(`DROP TABLE IF EXISTS memory.promotion_runs`);
    await db.query(`DROP TABLE IF EXISTS memory.promotion_settings`);
  }
}
