/**
 * `npm run bench:ingest`: ingestion throughput through the whole pipeline (gateway →
 * memory subgraph → queue → categorize/extract/embed/organize/store) with the embedded
 * extractor and embedder on the embedded Postgres, beside the embedder's raw throughput on
 * the same texts measured in the same run (the ceiling: embedding dominates).
 *
 *   npm run bench:ingest                 # 1k and 10k events, 1 MB of documents
 *   BENCH_EVENTS=1000 npm run bench:ingest
 */
import 'reflect-metadata';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../common/config';
import { startEmbeddedPostgres } from '../common/db/embedded-postgres';
import { startStack } from '../scripts/stack';
import { LocalSentenceEmbedder } from '../subgraphs/memory/embedding/local-sentence-embedder';

const COMMAND = 'npm run bench:ingest';
const EVENT_COUNTS = (process.env.BENCH_EVENTS ?? '1000,10000').split(',').map(Number);
const DOCUMENT_BYTES = Number(process.env.BENCH_DOCUMENT_BYTES ?? 1_000_000);

const SUBJECTS = [
  'I',
  'My manager',
  'Our team',
  'The customer',
  'My sister',
  'We',
  'The new intern',
  'Our CTO',
];
const VERBS = [
  'prefer',
  'booked',
  'moved',
  'need',
  'reviewed',
  'cancelled',
  'asked about',
  'deployed',
  'like',
  'fixed',
];
const OBJECTS = [
  'the Postgres migration',
  'a flight to Berlin on Friday',
  'the refund for order 4411',
  'dark mode in the editor',
  'the quarterly budget review',
  'Product X with Slack',
  'the release of version 2.3',
  'a table for six at 7pm',
  'Rust for performance-critical paths',
  'the onboarding checklist',
];
const TAILS = [
  'last week.',
  'tomorrow morning.',
  'because it was urgent.',
  'again.',
  'before the deadline.',
  'with Microsoft Teams.',
];

/** Deterministic chat turns (~12-20 words), all different. */
function chatTurns(count: number, seed: number): string[] {
  let state = seed;
  const pick = <T>(list: T[]) => list[(state = (state * 48271) % 2147483647) % list.length]!;
  return Array.from(
    { length: count },
    (_, i) => `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TAILS)} (note ${i})`,
  );
}

function documentText(bytes: number, seed: number): string {
  const sentences = chatTurns(Math.ceil(bytes / 60), seed).map((turn) =>
    turn.replace(/^I /, 'Staff ').replace(/\(note (\d+)\)/, 'See policy section $1.'),
  );
  let text = '';
  for (const sentence of sentences) {
    if (text.length + sentence.length + 1 > bytes) break;
    text += `${sentence} `;
  }
  return text.trim();
}

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

async function waitForJobs(url: string, key: string, jobIds: string[]): Promise<void> {
  for (;;) {
    const states = await Promise.all(
      jobIds.map((jobId) =>
        gql(url, key, `query($id: ID!) { job(jobId: $id) { status processed total failed } }`, { id: jobId }),
      ),
    );
    if (states.every((state) => state.job.status === 'DONE' || state.job.status === 'FAILED')) {
      const failed = states.reduce((sum, state) => sum + state.job.failed, 0);
      if (failed > 0) throw new Error(`${failed} items failed`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsy-bench-'));
  const postgres = await startEmbeddedPostgres();
  const config = loadConfig({
    NODE_ENV: 'production',
    PORT: '0',
    MEMSY_DATA_DIR: dataDir,
    MEMORY_WORKER_BATCH: '32',
  });
  const stack = await startStack(config, { database: { url: postgres.url, embedded: true } });
  const ceiling = await LocalSentenceEmbedder.create({ cacheSize: 0 });
  try {
    const key = stack.adminKey;
    await gql(
      stack.url,
      key,
      `mutation { createOrg(input: { orgId: "bench", name: "Bench", focus: "benchmarks" }) { orgId } }`,
    );
    const actors = Array.from({ length: 20 }, (_, i) => `user_${i}`);
    for (const actorId of actors) {
      await gql(
        stack.url,
        key,
        `mutation($a: ID!) { upsertActor(input: { orgId: "bench", actorId: $a }) { actorId } }`,
        { a: actorId },
      );
    }

    let seed = 7;
    for (const count of EVENT_COUNTS) {
      const turns = chatTurns(count, seed++);
      // The ceiling: the same embedder alone, batch 32, on the same texts.
      let started = performance.now();
      for (let i = 0; i < turns.length; i += 32) await ceiling.embed(turns.slice(i, i + 32));
      const embedderRate = count / ((performance.now() - started) / 1000);

      started = performance.now();
      const jobIds: string[] = [];
      for (let i = 0; i < turns.length; i += 1000) {
        const events = turns.slice(i, i + 1000).map((content, j) => ({
          actorId: actors[(i + j) % actors.length],
          sessionId: `s${Math.floor((i + j) / 50)}`,
          kind: 'USER_MESSAGE',
          content,
        }));
        const data = await gql(
          stack.url,
          key,
          `mutation($e: [EventInput!]!) { ingestEvents(orgId: "bench", events: $e) { jobId } }`,
          { e: events },
        );
        jobIds.push(data.ingestEvents.jobId);
      }
      const accepted = performance.now() - started;
      await waitForJobs(stack.url, key, jobIds);
      const seconds = (performance.now() - started) / 1000;
      const pipelineRate = count / seconds;
      rows.push(
        `| ${count.toLocaleString('en')} events | ${pipelineRate.toFixed(0)} events/s | ${embedderRate.toFixed(0)} texts/s | ${((pipelineRate / embedderRate) * 100).toFixed(0)}% | accepted in ${(accepted / 1000).toFixed(2)} s, done in ${seconds.toFixed(1)} s |`,
      );
      console.log(rows.at(-1));
    }

    // Documents: ~5 kB each, BOOTSTRAP priority.
    const docSize = 5_000;
    const docCount = Math.max(1, Math.round(DOCUMENT_BYTES / docSize));
    const documents = Array.from({ length: docCount }, (_, i) => ({
      documentId: `doc_${i}`,
      content: documentText(docSize, 1000 + i),
    }));
    const bytes = documents.reduce((sum, doc) => sum + Buffer.byteLength(doc.content), 0);
    let started = performance.now();
    const probe = documents.slice(0, Math.min(20, docCount)).map((doc) => doc.content);
    // Ceiling for documents: embedding the chunk-sized pieces of 20 documents.
    const pieces = probe.flatMap((text) => text.match(/.{1,1200}(\s|$)/g) ?? []);
    for (let i = 0; i < pieces.length; i += 32) await ceiling.embed(pieces.slice(i, i + 32));
    const ceilingMbPerMin =
      probe.reduce((s, t) => s + Buffer.byteLength(t), 0) / 1e6 / ((performance.now() - started) / 60_000);
    started = performance.now();
    const jobIds: string[] = [];
    for (let i = 0; i < documents.length; i += 100) {
      const data = await gql(
        stack.url,
        key,
        `mutation($d: [DocumentInput!]!) { ingestDocuments(orgId: "bench", documents: $d, priority: BOOTSTRAP) { jobId } }`,
        {
          d: documents.slice(i, i + 100),
        },
      );
      jobIds.push(data.ingestDocuments.jobId);
    }
    await waitForJobs(stack.url, key, jobIds);
    const minutes = (performance.now() - started) / 60_000;
    rows.push(
      `| ${(bytes / 1e6).toFixed(2)} MB documents (${docCount} × ~5 kB) | ${(bytes / 1e6 / minutes).toFixed(2)} MB/min | ${ceilingMbPerMin.toFixed(2)} MB/min | ${((bytes / 1e6 / minutes / ceilingMbPerMin) * 100).toFixed(0)}% | done in ${(minutes * 60).toFixed(1)} s |`,
    );
    console.log(rows.at(-1));
  } finally {
    await ceiling.close();
    await stack.close();
    await postgres.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }

  console.log(`
Ingestion benchmark, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}
Command: ${COMMAND}

| workload | through the pipeline | embedder alone (ceiling) | pipeline / ceiling | notes |
|---|---|---|---|---|
${rows.join('\n')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
