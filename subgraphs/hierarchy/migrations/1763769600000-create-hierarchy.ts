import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Orgs; roles and teams as independent siblings under an org; actors; API keys. */
export class CreateHierarchy1763769600000 implements MigrationInterface {
  name = 'CreateHierarchy1763769600000';

  async up(db: QueryRunner): Promise<void> {
    const promptColumns = `
      name text NOT NULL,
      focus text NOT NULL,
      promotion_prompt text NOT NULL,
      prompt_generator text NOT NULL,
      prompt_model text,
      prompt_template_version text NOT NULL,
      prompt_generated_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()`;
    await db.query(`CREATE TABLE hierarchy.orgs (org_id text PRIMARY KEY, ${promptColumns})`);
    await db.query(`CREATE INDEX orgs_created_idx ON hierarchy.orgs (created_at, org_id)`);
    for (const level of ['role', 'team']) {
      await db.query(`CREATE TABLE hierarchy.${level}s (
        ${level}_id text PRIMARY KEY,
        org_id text NOT NULL REFERENCES hierarchy.orgs(org_id) ON DELETE CASCADE,
        ${promptColumns})`);
      // Names are unique per org (case-insensitively): two "Backend Engineer" roles would be
      // indistinguishable to the people tagging events.
      await db.query(
        `CREATE UNIQUE INDEX ${level}s_org_name_key ON hierarchy.${level}s (org_id, lower(name))`,
      );
      await db.query(
        `CREATE INDEX ${level}s_org_created_idx ON hierarchy.${level}s (org_id, created_at, ${level}_id)`,
      );
    }
    await db.query(`CREATE TABLE hierarchy.actors (
      org_id text NOT NULL REFERENCES hierarchy.orgs(org_id) ON DELETE CASCADE,
      actor_id text NOT NULL,
      role_id text REFERENCES hierarchy.roles(role_id) ON DELETE SET NULL,
      team_id text REFERENCES hierarchy.teams(team_id) ON DELETE SET NULL,
      display_name text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (org_id, actor_id))`);
    await db.query(`CREATE INDEX actors_role_idx ON hierarchy.actors (role_id) WHERE role_id IS NOT NULL`);
    await db.query(`CREATE INDEX actors_team_idx ON hierarchy.actors (team_id) WHERE team_id IS NOT NULL`);
    await db.query(`CREATE TABLE hierarchy.api_keys (
      key_id text PRIMARY KEY,
      org_id text REFERENCES hierarchy.orgs(org_id) ON DELETE CASCADE,
      name text NOT NULL,
      role text NOT NULL CHECK (role IN ('platform', 'admin', 'member')),
      key_hash text NOT NULL UNIQUE,
      key_prefix text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz,
      CHECK ((role = 'platform') = (org_id IS NULL)))`);
    await db.query(`CREATE INDEX api_keys_org_idx ON hierarchy.api_keys (org_id, created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['api_keys', 'actors', 'teams', 'roles', 'orgs']) {
      await db.query(`DROP TABLE IF EXISTS hierarchy.${table}`);
    }
  }
}
