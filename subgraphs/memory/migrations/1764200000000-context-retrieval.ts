import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Storage for fast context retrieval (measured on 100k memories, see BENCHMARKS.md):
 * - Embeddings stay inline in the heap row (storage MAIN) instead of TOAST. A 512-d vector is
 *   about 2 KB, just over the TOAST threshold, so by default each was moved out of line and
 *   every distance in a scan cost extra TOAST lookups: a 5,000-row scope scan read 25k buffers
 *   instead of 5k. MAIN still moves a value out of line when a row cannot fit a page (very
 *   wide vectors), so nothing fails.
 * - An index on (org, level, scope, valid_from) over all rows, current or closed: `asOf`
 *   retrieval cannot use the partial index of current rows and fell back to scanning the
 *   whole table.
 */
export class ContextRetrieval1764200000000 implements MigrationInterface {
  name = 'ContextRetrieval1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE memory.memories ALTER COLUMN embedding SET STORAGE MAIN`);
    // Rewrites existing vectors (a new value, not the stored TOAST pointer) so they move inline.
    await db.query(
      `UPDATE memory.memories SET embedding = (embedding::real[])::vector WHERE embedding IS NOT NULL`,
    );
    await db.query(
      `CREATE INDEX memories_scope_validity_idx ON memory.memories (org_id, scope_level, scope_id, valid_from)`,
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX memory.memories_scope_validity_idx`);
    await db.query(`ALTER TABLE memory.memories ALTER COLUMN embedding SET STORAGE EXTERNAL`);
  }
}
