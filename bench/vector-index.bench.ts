/**
 * `npm run bench:vector-index`: when does the HNSW index beat an exact scan of one scope?
 * Seeds ORG scopes of several sizes (one org each, all in one table and one index), then runs
 * the same vector-only context searches through `PostgresMemoryStore.searchContext` twice:
 * forced exact (the scope's rows through the scope index) and forced HNSW (iterative scan).
 * Reports p50 latency of both and the HNSW result's recall@40 against the exact one. The
 * crossover sets `CONTEXT_HNSW_MIN_ROWS`.
 *
 *   npm run bench:vector-index
 *   VECTOR_BENCH_SIZES=5000,50000 npm run bench:vector-index
 */
import 'reflect-metadata';
import os from 'node:os';
import { Pool } from 'pg';
import { openSubgraphDatabase } from '../common/db/data-source';
import { startEmbeddedPostgres } from '../common/db/embedded-postgres';
import { MEMORY_DATABASE } from '../subgraphs/memory';
import { LocalSentenceEmbedder } from '../subgraphs/memory/embedding/local-sentence-embedder';
import { PostgresMemoryStore } from '../subgraphs/memory/storage/postgres-memory-store';
import { noisyVectors, percentile, sentencePool, SUBJECTS, TOPICS } from './synthetic';

const COMMAND = 'npm run bench:vector-index';
const SIZES = (process.env.VECTOR_BENCH_SIZES ?? '2000,5000,20000,50000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_RUNS ?? 40);
const LIMIT = 40;

async function main(): Promise<void> {
  const postgres = await startEmbeddedPostgres({ sharedBuffers: process.env.PGLITE_SHARED_BUFFERS ?? '1GB' });
  const dataSource = await openSubgraphDatabase({ url: postgres.url, embedded: true }, MEMORY_DATABASE);
  const db = new Pool({ connectionString: postgres.url, max: 1 });
  const encoder = await LocalSentenceEmbedder.create({ cacheSize: 0 });
  try {
    const pool = sentencePool(2_000);
    const vectorFor = noisyVectors(await encoder.embed(pool));
    const seeded = performance.now();
    let offset = 0;
    for (const size of SIZES) {
      for (let start = 0; start < size; start += 1000) {
        const count = Math.min(1000, size - start);
        const texts = Array.from(
          { length: count },
          (_, j) => `${pool[(offset + start + j) % pool.length]} #${start + j}`,
        );
        const vectors = Array.from({ length: count }, (_, j) => vectorFor(offset + start + j));
        await db.query(
          `INSERT INTO memory.memories (org_id, scope_level, scope_id, content, content_hash, category, embedding, embedding_model, valid_from)
           SELECT $1, 'ORG', $1, t, md5(t), 'DOCUMENT', v::vector, $2, now() - interval '1 day'
           FROM unnest($3::text[], $4::text[]) AS x(t, v)`,
          [`org-${size}`, encoder.modelId, texts, vectors],
        );
      }
      offset += size;
    }
    const seedSeconds = (performance.now() - seeded) / 1000;
    const exact = new PostgresMemoryStore(dataSource, dataSource, { hnswMinRows: Number.MAX_SAFE_INTEGER });
    const approximate = new PostgresMemoryStore(dataSource, dataSource, { hnswMinRows: 1 });
    const built = performance.now();
    await approximate.ensureVectorIndex(encoder.modelId, encoder.dimensions);
    const buildSeconds = (performance.now() - built) / 1000;
    await db.query('ANALYZE memory.memories');

    const questions = Array.from(
      { length: QUERIES },
      (_, i) =>
        `How long for ${TOPICS[i % TOPICS.length]} of ${SUBJECTS[(i * 3) % SUBJECTS.length]!.toLowerCase()}?`,
    );
    const queryVectors = await encoder.embed(questions);
    const rows: string[] = [];
    for (const size of SIZES) {
      const orgId = `org-${size}`;
      const search = (queryVector: Float32Array) => ({
        orgId,
        scopes: [{ level: 'ORG' as const, id: orgId }],
        embeddingModel: encoder.modelId,
        queryVector,
        lexicalQuery: '',
        entityNames: [],
        asOf: new Date(),
        limit: LIMIT,
      });
      const times = { exact: [] as number[], hnsw: [] as number[] };
      let recalled = 0;
      let expected = 0;
      // One warm-up pass each (buffers, size measurement), then measured passes.
      await exact.searchContext(search(queryVectors[0]!));
      await approximate.searchContext(search(queryVectors[0]!));
      for (const queryVector of queryVectors) {
        let started = performance.now();
        const truth = await exact.searchContext(search(queryVector));
        times.exact.push(performance.now() - started);
        started = performance.now();
        const found = await approximate.searchContext(search(queryVector));
        times.hnsw.push(performance.now() - started);
        if (!found.vector.every((hit) => hit.approximate)) throw new Error('HNSW path not taken');
        const truthIds = new Set(truth.vector.map((hit) => hit.id));
        expected += truthIds.size;
        recalled += found.vector.filter((hit) => truthIds.has(hit.id)).length;
      }
      const e50 = percentile(times.exact, 50);
      const h50 = percentile(times.hnsw, 50);
      rows.push(
        `| ${size.toLocaleString('en')} | ${e50.toFixed(1)} | ${percentile(times.exact, 95).toFixed(1)} | ${h50.toFixed(1)} | ${percentile(times.hnsw, 95).toFixed(1)} | ${(e50 / h50).toFixed(2)}× | ${(recalled / expected).toFixed(3)} |`,
      );
      console.log(rows.at(-1));
    }
    console.log(`
Vector index benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${QUERIES} queries per row, limit ${LIMIT}
${SIZES.reduce((a, b) => a + b, 0).toLocaleString('en')} ORG memories seeded in ${seedSeconds.toFixed(1)} s; HNSW index built in ${buildSeconds.toFixed(1)} s
Command: ${COMMAND}

| ORG scope rows | exact p50 ms | exact p95 ms | HNSW p50 ms | HNSW p95 ms | exact / HNSW (p50) | HNSW recall@${LIMIT} |
|---|---|---|---|---|---|---|
${rows.join('\n')}`);
  } finally {
    await db.end();
    await encoder.close();
    await dataSource.destroy();
    await postgres.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
