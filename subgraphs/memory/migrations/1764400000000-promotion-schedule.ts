import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Scheduled promotion per org (issue 6): an org's own interval between automatic promotion
 * runs. NULL: the configured default (PROMOTION_INTERVAL_SECONDS); 0: never automatically.
 */
export class PromotionSchedule1764400000000 implements MigrationInterface {
  name = 'PromotionSchedule1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE memory.promotion_settings
      ADD COLUMN interval_seconds integer CHECK (interval_seconds >= 0)`);
    // The scheduler finds an org's latest real (not dry) run by this.
    await db.query(`CREATE INDEX promotion_runs_org_applied_idx ON memory.promotion_runs (org_id, created_at DESC)
      WHERE NOT dry_run`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX IF EXISTS memory.promotion_runs_org_applied_idx`);
    await db.query(`ALTER TABLE memory.promotion_settings DROP COLUMN IF EXISTS interval_seconds`);
  }
}
