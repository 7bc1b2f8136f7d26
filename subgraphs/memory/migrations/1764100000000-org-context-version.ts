import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A per-org version of the org context, part of every context-cache key: any change to an
 * ORG-scope memory (written, closed, deleted, by any process) bumps it through a trigger, so
 * every instance's cache misses at once, also on the embedded Postgres where LISTEN/NOTIFY
 * does not cross connections.
 */
export class OrgContextVersion1764100000000 implements MigrationInterface {
  name = 'OrgContextVersion1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE TABLE memory.org_context_versions (
      org_id text PRIMARY KEY,
      version bigint NOT NULL DEFAULT 1,
      changed_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE FUNCTION memory.bump_org_context_version() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        changed_org text;
      BEGIN
        IF TG_OP = 'DELETE' THEN
          IF OLD.scope_level <> 'ORG' THEN RETURN OLD; END IF;
          changed_org := OLD.org_id;
        ELSE
          IF NEW.scope_level <> 'ORG' THEN RETURN NEW; END IF;
          changed_org := NEW.org_id;
        END IF;
        INSERT INTO memory.org_context_versions (org_id) VALUES (changed_org)
        ON CONFLICT (org_id) DO UPDATE
          SET version = memory.org_context_versions.version + 1, changed_at = now();
        RETURN COALESCE(NEW, OLD);
      END $$`);
    await db.query(`CREATE TRIGGER memories_org_context_changed
      AFTER INSERT OR UPDATE OR DELETE ON memory.memories
      FOR EACH ROW EXECUTE FUNCTION memory.bump_org_context_version()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TRIGGER IF EXISTS memories_org_context_changed ON memory.memories`);
    await db.query(`DROP FUNCTION IF EXISTS memory.bump_org_context_version()`);
    await db.query(`DROP TABLE IF EXISTS memory.org_context_versions`);
  }
}
