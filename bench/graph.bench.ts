/**
 * Graph bench of the embedded graph store (PostgresGraphStore: tables + recursive CTEs in the
 * embedded PGlite): seeds one org with 100k entities and 300k relationships through the
 * store's own upserts, then prints p50/p95 latency of 1-hop and 2-hop neighbours and of
 * shortest paths (pairs at most 3 hops apart, and random pairs), each queried along an
 * actor's scope chain [ACTOR, TEAM, ORG] as the entity subgraph does. Not part of the tests.
 *
 *   node -r ./scripts/register.js bench/graph.bench.ts
 *   BENCH_ENTITIES=20000 BENCH_RELATIONSHIPS=60000 node -r ./scripts/register.js bench/graph.bench.ts
 *
 * Scopes: 80% of the entities at ORG scope, 15% spread over 20 teams, 5% over 1,000 actors.
 * Relationships: uniformly random pairs (average degree 6), 6 relationship types.
 */
import 'reflect-metadata';
import os from 'node:os';
import { startEmbeddedPostgres } from '../common/db/embedded-postgres';
import type { EntityInput, Scope } from '../subgraphs/entity/graph/graph-store';
import { PostgresGraphStore } from '../subgraphs/entity/graph/postgres-graph-store';

const COMMAND = 'node -r ./scripts/register.js bench/graph.bench.ts';
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 100_000);
const RELATIONSHIPS = Number(process.env.BENCH_RELATIONSHIPS ?? 300_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300);
const WARMUP = 30;
const TEAMS = 20;
const ACTORS = 1_000;
const TYPES = ['KNOWS', 'USES', 'PART_OF', 'WORKS_WITH', 'MENTIONS', 'LOCATED_IN'];
const ORG_ID = 'bench-org';

/** Seeded PRNG (Park-Miller), so every run builds the same graph. */
let state = 20_251_124;
const rand = () => (state = (state * 48271) % 2147483647) / 2147483647;
const pick = (n: number) => Math.floor(rand() * n);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(
  label: string,
  samples: number,
  run: (i: number) => Promise<number>,
): Promise<{ label: string; p50: number; p95: number; size: number }> {
  for (let i = 0; i < WARMUP; i++) await run(i);
  const times: number[] = [];
  let size = 0;
  for (let i = 0; i < samples; i++) {
    const started = process.hrtime.bigint();
    size += await run(WARMUP + i);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return { label, p50: percentile(times, 50), p95: percentile(times, 95), size: size / samples };
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const postgres = await startEmbeddedPostgres();
  const store = await PostgresGraphStore.open({ url: postgres.url, embedded: true });
  try {
    // ---- seed ----------------------------------------------------------------------
    const org: Scope = { level: 'ORG', id: ORG_ID };
    const teamOfActor = (actor: number) => actor % TEAMS;
    const scopes: Scope[] = [];
    const inputs: EntityInput[] = [];
    for (let i = 0; i < ENTITIES; i++) {
      const r = rand();
      const scope: Scope =
        r < 0.8
          ? org
          : r < 0.95
            ? { level: 'TEAM', id: `team-${pick(TEAMS)}` }
            : { level: 'ACTOR', id: `actor-${pick(ACTORS)}` };
      scopes.push(scope);
      inputs.push({
        scope,
        name: `Entity ${i}`,
        type: i % 3 === 0 ? 'PERSON' : i % 3 === 1 ? 'PRODUCT' : 'TERM',
      });
    }
    const ids: string[] = [];
    let seedStart = Date.now();
    for (let i = 0; i < inputs.length; i += 2_000)
      ids.push(...(await store.upsertEntities(ORG_ID, inputs.slice(i, i + 2_000))).map((e) => e.id));
    const entitySeconds = (Date.now() - seedStart) / 1000;

    const adjacency: number[][] = Array.from({ length: ENTITIES }, () => []);
    const seen = new Set<string>();
    const edges: Array<{ fromId: string; toId: string; type: string }> = [];
    while (edges.length < RELATIONSHIPS) {
      const a = pick(ENTITIES);
      const b = pick(ENTITIES);
      const type = TYPES[pick(TYPES.length)]!;
      const key = `${a}:${b}:${type}`;
      if (a === b || seen.has(key)) continue;
      seen.add(key);
      adjacency[a]!.push(b);
      adjacency[b]!.push(a);
      edges.push({ fromId: ids[a]!, toId: ids[b]!, type });
    }
    seedStart = Date.now();
    for (let i = 0; i < edges.length; i += 5_000)
      await store.upsertRelationships(ORG_ID, edges.slice(i, i + 5_000));
    const relationshipSeconds = (Date.now() - seedStart) / 1000;

    // ---- queries ---------------------------------------------------------------------
    /** The chain of a random actor, and a test of whether an entity is visible to it. */
    const chainOf = (actor: number): Scope[] => [
      { level: 'ACTOR', id: `actor-${actor}` },
      { level: 'TEAM', id: `team-${teamOfActor(actor)}` },
      org,
    ];
    const visible = (chain: Scope[], entity: number) =>
      chain.some((s) => s.level === scopes[entity]!.level && s.id === scopes[entity]!.id);
    const orgEntities = ids.map((_, i) => i).filter((i) => scopes[i]!.level === 'ORG');
    const startOf = (i: number) => orgEntities[(i * 7919) % orgEntities.length]!;
    const actorOf = (i: number) => (i * 104_729) % ACTORS;

    /** Pairs 1 to 3 hops apart inside the chain: a random walk over visible entities. */
    const nearPairs: Array<{ from: number; to: number; chain: Scope[] }> = [];
    for (let i = 0; nearPairs.length < SAMPLES + WARMUP; i++) {
      const chain = chainOf(actorOf(i));
      const from = startOf(i);
      let at = from;
      const hops = 1 + (i % 3);
      for (let h = 0; h < hops; h++) {
        const next = adjacency[at]!.filter((n) => visible(chain, n));
        if (next.length === 0) break;
        at = next[pick(next.length)]!;
      }
      if (at !== from) nearPairs.push({ from, to: at, chain });
    }

    const results = [
      await measure('neighbours, depth 1', SAMPLES, async (i) => {
        const graph = await store.neighbours(ORG_ID, ids[startOf(i)]!, 1, chainOf(actorOf(i)));
        return graph.entities.length;
      }),
      await measure('neighbours, depth 2', SAMPLES, async (i) => {
        const graph = await store.neighbours(ORG_ID, ids[startOf(i)]!, 2, chainOf(actorOf(i)));
        return graph.entities.length;
      }),
      await measure('shortest path, pairs <= 3 hops apart', SAMPLES, async (i) => {
        const pair = nearPairs[i]!;
        const path = await store.shortestPath(ORG_ID, ids[pair.from]!, ids[pair.to]!, pair.chain);
        if (!path) throw new Error('a pair 3 hops apart has no path');
        return path.relationships.length;
      }),
      await measure('shortest path, random pairs (<= 6 hops or none)', Math.min(SAMPLES, 100), async (i) => {
        const path = await store.shortestPath(
          ORG_ID,
          ids[startOf(i)]!,
          ids[startOf(i * 31 + 17)]!,
          chainOf(actorOf(i)),
        );
        return path ? path.relationships.length : 0;
      }),
      await measure('resolveNames, 5 names along the chain', SAMPLES, async (i) => {
        const names = Array.from({ length: 5 }, (_, k) => `entity ${(i * 131 + k * 9973) % ENTITIES}`);
        const found = await store.resolveNames(ORG_ID, names, chainOf(actorOf(i)));
        return [...found.values()].reduce((sum, list) => sum + list.length, 0);
      }),
    ];

    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `\nGraph bench: PostgresGraphStore on embedded PGlite (${os.cpus().length} x ${cpu}, Node ${process.version})`,
    );
    console.log(`Command: ${COMMAND}`);
    console.log(
      `Seeded one org: ${ENTITIES.toLocaleString('en')} entities in ${entitySeconds.toFixed(1)} s, ` +
        `${RELATIONSHIPS.toLocaleString('en')} relationships in ${relationshipSeconds.toFixed(1)} s (through upsertEntities / upsertRelationships)`,
    );
    console.log(
      `Samples per query: ${SAMPLES} after ${WARMUP} warm-up (random pairs: ${Math.min(SAMPLES, 100)})\n`,
    );
    console.log('| query | p50 ms | p95 ms | mean result size |');
    console.log('|---|---:|---:|---:|');
    for (const r of results)
      console.log(`| ${r.label} | ${r.p50.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.size.toFixed(1)} |`);
    console.log(`\n(result size: entities for neighbours, hops for paths, entities found for resolveNames)`);
    console.log(`Total run: ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
  } finally {
    await store.close();
    await postgres.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
