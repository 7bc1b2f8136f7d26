import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events, documents, memories (with pgvector embeddings and full-text search), memory
 * mentions, ingestion jobs and the durable work queue of the memory subgraph.
 */
export class CreateMemory1763856000000 implements MigrationInterface {
  name = 'CreateMemory1763856000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE EXTENSION IF NOT EXISTS vector`);

    await db.query(`CREATE TABLE memory.jobs (
      job_id text PRIMARY KEY,
      org_id text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('INGEST_EVENTS', 'INGEST_DOCUMENTS')),
      priority text NOT NULL CHECK (priority IN ('REALTIME', 'BOOTSTRAP')),
      status text NOT NULL DEFAULT 'QUEUED' CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED')),
      stage text,
      processed integer NOT NULL DEFAULT 0,
      failed integer NOT NULL DEFAULT 0,
      total integer NOT NULL,
      errors jsonb NOT NULL DEFAULT '[]',
      message text,
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      started_at timestamptz,
      finished_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now())`);
    await db.query(`CREATE INDEX jobs_org_created_idx ON memory.jobs (org_id, created_at DESC, job_id DESC)`);

    // The durable queue: one row per event or document version to process. Workers claim
    // rows with FOR UPDATE SKIP LOCKED and a lease; an expired lease is claimed again.
    await db.query(`CREATE TABLE memory.job_items (
      item_id bigserial PRIMARY KEY,
      job_id text NOT NULL REFERENCES memory.jobs(job_id) ON DELETE CASCADE,
      org_id text NOT NULL,
      priority smallint NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      leased_until timestamptz,
      error text)`);
    await db.query(
      `CREATE INDEX job_items_ready_idx ON memory.job_items (priority, item_id) WHERE status IN ('queued', 'running')`,
    );
    await db.query(`CREATE INDEX job_items_job_idx ON memory.job_items (job_id)`);

    await db.query(`CREATE TABLE memory.events (
      org_id text NOT NULL,
      event_id text NOT NULL,
      actor_id text NOT NULL,
      session_id text NOT NULL,
      kind text NOT NULL,
      content text NOT NULL,
      role_id text,
      team_id text,
      occurred_at timestamptz NOT NULL,
      metadata jsonb NOT NULL DEFAULT '{}',
      job_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (org_id, event_id))`);
    await db.query(`CREATE INDEX events_actor_idx ON memory.events (org_id, actor_id)`);

    await db.query(`CREATE TABLE memory.documents (
      org_id text NOT NULL,
      document_id text NOT NULL,
      version integer NOT NULL,
      scope_level text NOT NULL,
      scope_id text NOT NULL,
      content text NOT NULL,
      content_hash text NOT NULL,
      metadata jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT now(),
      replaced_at timestamptz,
      PRIMARY KEY (org_id, document_id, version))`);

    await db.query(`CREATE TABLE memory.memories (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id text NOT NULL,
      scope_level text NOT NULL CHECK (scope_level IN ('ACTOR', 'ROLE', 'TEAM', 'ORG', 'WORLD')),
      scope_id text NOT NULL,
      actor_id text,
      content text NOT NULL,
      content_hash text NOT NULL,
      category text NOT NULL,
      embedding vector,
      embedding_model text,
      source_event_ids text[] NOT NULL DEFAULT '{}',
      document_id text,
      document_version integer,
      chunk_index integer,
      source_memory_ids uuid[] NOT NULL DEFAULT '{}',
      valid_from timestamptz NOT NULL,
      valid_to timestamptz,
      superseded_by uuid,
      expires_at timestamptz,
      metadata jsonb NOT NULL DEFAULT '{}',
      created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
      search tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED)`);
    await db.query(
      `CREATE INDEX memories_scope_idx ON memory.memories (org_id, scope_level, scope_id, created_at, id) WHERE valid_to IS NULL`,
    );
    await db.query(`CREATE INDEX memories_org_created_idx ON memory.memories (org_id, created_at, id)`);
    await db.query(
      `CREATE INDEX memories_actor_idx ON memory.memories (org_id, actor_id) WHERE actor_id IS NOT NULL`,
    );
    await db.query(
      `CREATE INDEX memories_document_idx ON memory.memories (org_id, document_id, document_version)`,
    );
    await db.query(
      `CREATE INDEX memories_superseded_by_idx ON memory.memories (superseded_by) WHERE superseded_by IS NOT NULL`,
    );
    await db.query(`CREATE INDEX memories_search_idx ON memory.memories USING gin (search)`);
    // Exact dedup: one current memory per content at a scope. It also makes a resumed job
    // idempotent: re-processing an item merges provenance instead of inserting again.
    await db.query(
      `CREATE UNIQUE INDEX memories_current_content_key ON memory.memories (org_id, scope_level, scope_id, content_hash) WHERE valid_to IS NULL AND document_id IS NULL`,
    );
    await db.query(
      `CREATE UNIQUE INDEX memories_document_chunk_key ON memory.memories (org_id, document_id, document_version, chunk_index) WHERE document_id IS NOT NULL`,
    );

    // Entities a memory mentions, as extracted; the entity subgraph resolves them.
    await db.query(`CREATE TABLE memory.memory_mentions (
      memory_id uuid NOT NULL REFERENCES memory.memories(id) ON DELETE CASCADE,
      org_id text NOT NULL,
      name text NOT NULL,
      normalized_name text NOT NULL,
      type text NOT NULL,
      PRIMARY KEY (memory_id, normalized_name, type))`);
    await db.query(
      `CREATE INDEX memory_mentions_name_idx ON memory.memory_mentions (org_id, normalized_name)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    for (const table of ['memory_mentions', 'memories', 'documents', 'events', 'job_items', 'jobs']) {
      await db.query(`DROP TABLE IF EXISTS memory.${table}`);
    }
  }
}
