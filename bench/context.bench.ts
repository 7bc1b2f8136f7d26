/**
 * `npm run bench:context`: latency of the federated context query through the gateway
 * (hierarchy → memory → entity) on seeded synthetic data, beside the raw floor measured in the
 * same run: the bare scope-filtered pgvector query returning the same candidates.
 *
 * Data per size: one org with 5,000 document chunks (ORG scope), 50 roles, 20 teams and 1,000
 * actors holding the rest as ACTOR, ROLE and TEAM memories. Texts come from templates and are
 * embedded with the real encoder (a pool of distinct sentences), so vectors are realistic.
 *
 *   npm run bench:context                    # 10k and 100k memories
 *   BENCH_SIZES=10000 npm run bench:context
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'pg';
import { loadConfig } from '../common/config';
import { startEmbeddedPostgres } from '../common/db/embedded-postgres';
import { startStack } from '../scripts/stack';
import { LocalSentenceEmbedder } from '../subgraphs/memory/embedding/local-sentence-embedder';
import { noisyVectors, percentile, sentencePool, SUBJECTS, TOPICS } from './synthetic';

const COMMAND = 'npm run bench:context';
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const ORG_CHUNKS = 5_000;
// The embedded Postgres gets a buffer pool that holds the data set, as a production server's would.
const SHARED_BUFFERS = process.env.PGLITE_SHARED_BUFFERS ?? '1GB';
const ACTORS = 1_000;
const ROLES = 50;
const TEAMS = 20;

async function gql(url: string, key: string, query: string, variables?: Record<string, unknown>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const encoder = await LocalSentenceEmbedder.create({ cacheSize: 0 });
  const pool = sentencePool(2_000);
  const vectors = await encoder.embed(pool);
  const vectorFor = noisyVectors(vectors);
  const queries = Array.from(
    { length: RUNS },
    (_, i) =>
      `How long for ${TOPICS[i % TOPICS.length]} of ${SUBJECTS[i % SUBJECTS.length]!.toLowerCase()} case ${i}?`,
  );

  for (const size of SIZES) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsy-bench-ctx-'));
    const postgres = await startEmbeddedPostgres({ sharedBuffers: SHARED_BUFFERS });
    const stack = await startStack(
      loadConfig({ NODE_ENV: 'production', PORT: '0', MEMSY_DATA_DIR: dataDir, MEMORY_WORKER: 'off' }),
      { database: { url: postgres.url, embedded: true } },
    );
    const db = new Pool({ connectionString: postgres.url, max: 1 });
    try {
      const key = stack.adminKey;
      await gql(
        stack.url,
        key,
        `mutation { createOrg(input: { orgId: "bench", name: "Bench", focus: "support" }) { orgId } }`,
      );
      const roleIds: string[] = [];
      const teamIds: string[] = [];
      for (let i = 0; i < ROLES; i++)
        roleIds.push(
          (
            await gql(
              stack.url,
              key,
              `mutation { createRole(input: { orgId: "bench", name: "Role ${i}" }) { roleId } }`,
            )
          ).createRole.roleId,
        );
      for (let i = 0; i < TEAMS; i++)
        teamIds.push(
          (
            await gql(
              stack.url,
              key,
              `mutation { createTeam(input: { orgId: "bench", name: "Team ${i}" }) { teamId } }`,
            )
          ).createTeam.teamId,
        );
      for (let start = 0; start < ACTORS; start += 50) {
        const aliases = Array.from({ length: 50 }, (_, j) => {
          const i = start + j;
          return `a${i}: upsertActor(input: { orgId: "bench", actorId: "actor_${i}", roleId: "${roleIds[i % ROLES]}", teamId: "${teamIds[i % TEAMS]}" }) { actorId }`;
        });
        await gql(stack.url, key, `mutation { ${aliases.join('\n')} }`);
      }

      // Seed memories straight into the table (the pipeline's throughput is bench:ingest's job).
      const seedStarted = performance.now();
      const total = size;
      for (let start = 0; start < total; start += 1000) {
        const batch = Array.from({ length: Math.min(1000, total - start) }, (_, j) => {
          const i = start + j;
          const text = pool[i % pool.length]!;
          const scope =
            i < ORG_CHUNKS
              ? ['ORG', 'bench']
              : i % 10 === 0
                ? ['ROLE', roleIds[i % ROLES]!]
                : i % 10 === 1
                  ? ['TEAM', teamIds[i % TEAMS]!]
                  : ['ACTOR', `actor_${i % ACTORS}`];
          return {
            text: `${text} #${i}`,
            level: scope[0]!,
            id: scope[1]!,
            vector: vectorFor(i),
          };
        });
        await db.query(
          `INSERT INTO memory.memories (org_id, scope_level, scope_id, actor_id, content, content_hash, category, embedding, embedding_model, valid_from)
           SELECT 'bench', l, s, CASE WHEN l = 'ACTOR' THEN s END, t, md5(t), 'FACT', v::vector, $5, now() - interval '1 day'
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(t, l, s, v)`,
          [
            batch.map((b) => b.text),
            batch.map((b) => b.level),
            batch.map((b) => b.id),
            batch.map((b) => b.vector),
            encoder.modelId,
          ],
        );
      }
      await db.query('ANALYZE memory.memories');
      const seedSeconds = (performance.now() - seedStarted) / 1000;

      const CONTEXT = `query($a: ID!, $q: String!) { actor(actorId: $a, orgId: "bench") { context(query: $q, limit: 8) { cached tookMs items { score scope { level } memory { content entities { name } } } } } }`;
      const actorOf = (i: number) => `actor_${(i * 37) % ACTORS}`;
      // Floor: the bare scope-filtered pgvector query for the same vector candidates (the best
      // 40 of each scope of the chain, each scope through its own index, as the service does).
      const queryVectors = await encoder.embed(queries);
      const floor: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const a = (i * 37) % ACTORS;
        floor.push(
          await timed(() =>
            db.query(
              `SELECT v.id FROM unnest($1::text[], $2::text[]) AS c(level, id) CROSS JOIN LATERAL (
                 SELECT m.id FROM memory.memories m
                 WHERE m.org_id = 'bench' AND m.scope_level = c.level AND m.scope_id = c.id
                   AND m.embedding_model = $3 AND m.valid_to IS NULL
                 ORDER BY m.embedding <=> $4::vector LIMIT 40) v`,
              [
                ['ACTOR', 'ROLE', 'TEAM', 'ORG'],
                [`actor_${a}`, roleIds[a % ROLES], teamIds[a % TEAMS], 'bench'],
                encoder.modelId,
                `[${Array.from(queryVectors[i]!).join(',')}]`,
              ],
            ),
          ),
        );
      }
      // Cold: every query new (no embedding cache, no org cache).
      // Each sample: the whole request through the gateway, and the memory subgraph's own
      // time inside it (`tookMs`: embedding, store statements, fusion).
      const service: Record<string, number[]> = { cold: [], warmEmbedding: [], warm: [] };
      // The answer's `cached` flag must match the phase, or the row would measure something else.
      const ask = async (i: number, into: number[] | null, orgCached: boolean | null) => {
        const started = performance.now();
        const data = await gql(stack.url, key, CONTEXT, { a: actorOf(i), q: `${queries[i]} (${size})` });
        const took = performance.now() - started;
        if (orgCached !== null && data.actor.context.cached !== orgCached)
          throw new Error(`query ${i}: org part cached=${data.actor.context.cached}, expected ${orgCached}`);
        into?.push(data.actor.context.tookMs);
        return took;
      };
      const cold: number[] = [];
      for (let i = 0; i < RUNS; i++) cold.push(await ask(i, service.cold!, false));
      // Warm embedding: the same queries again, the org cache dropped before each one.
      const warmEmbedding: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        await gql(stack.url, key, `mutation { invalidateContextCache(orgId: "bench") }`);
        warmEmbedding.push(await ask(i, service.warmEmbedding!, false));
      }
      // Warm: embedding and org part cached (one unmeasured pass fills the org cache for the
      // org's current context version first).
      for (let i = 0; i < RUNS; i++) await ask(i, null, null);
      const warm: number[] = [];
      for (let i = 0; i < RUNS; i++) warm.push(await ask(i, service.warm!, true));
      const f50 = percentile(floor, 50);
      for (const [name, values, inside] of [
        ['cold (new query)', cold, service.cold!],
        ['warm embedding, org cache dropped', warmEmbedding, service.warmEmbedding!],
        ['warm embedding + org cache', warm, service.warm!],
      ] as const) {
        rows.push(
          `| ${size.toLocaleString('en')} | ${name} | ${percentile(values, 50).toFixed(1)} | ${percentile(values, 95).toFixed(1)} | ${percentile(values, 99).toFixed(1)} | ${percentile(inside, 50).toFixed(1)} | ${f50.toFixed(2)} | ${(percentile(values, 50) / f50).toFixed(1)}× |`,
        );
        console.log(rows.at(-1));
      }
      console.log(`(seeded ${size} memories in ${seedSeconds.toFixed(1)} s)`);
    } finally {
      await db.end();
      await stack.close();
      await postgres.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  await encoder.close();

  console.log(`
Context query benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${RUNS} queries per row
Command: ${COMMAND}

| memories | federated context query | p50 ms | p95 ms | p99 ms | memory subgraph p50 ms | raw floor p50 ms | p50 / floor |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
