import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Storage for fast context retrieval (measured on 100k memories, see BENCHMARKS.md):
 * - Rows stay whole in the heap instead of TOAST. A 512-d vector is about 2 KB, just over the
 *   default 2 KB TOAST threshold, so each was moved out of line and every distance in a scan
 *   cost extra TOAST lookups (a 5,000-row scope scan read 25k buffers instead of 5k); keeping
 *   the vector inline (storage MAIN) alone pushed the text and its tsvector out instead, and
 *   full-text checks paid the same price. So TOAST starts only past 8,160 bytes a row, and
 *   the vector is the last value to move out (MAIN). Wider rows still toast, nothing fails.
 * - An index on (org, level, scope, valid_from) over all rows, current or closed: `asOf`
 *   retrieval cannot use the partial index of current rows and fell back to scanning the
 *   whole table.
 */
export class ContextRetrieval1764200000000 implements MigrationInterface {
  name = 'ContextRetrieval1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE memory.memories SET (toast_tuple_target = 8160)`);
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
    await db.query(`ALTER TABLE memory.memories RESET (toast_tuple_target)`);
  }
}
