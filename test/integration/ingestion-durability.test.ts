import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../../common/config';
import { openSubgraphDatabase } from '../../common/db/data-source';
import { startStack } from '../../scripts/stack';
import { MEMORY_DATABASE } from '../../subgraphs/memory';
import { OpenAiEmbedder } from '../../subgraphs/memory/embedding/openai-embedder';
import { RuleCategorizer, RuleExtractor, SentenceChunker } from '../../subgraphs/memory/extraction';
import type { ItemOutcome, JobQueue, WorkItem } from '../../subgraphs/memory/queue/job-queue';
import { PostgresJobQueue } from '../../subgraphs/memory/queue/postgres-job-queue';
import { IngestionPipeline } from '../../subgraphs/memory/services/pipeline';
import { EntitySubgraphLinker } from '../../subgraphs/memory/services/entity-linker';
import { HierarchyScopeDirectory } from '../../subgraphs/memory/services/scope-directory';
import { IngestionWorker } from '../../subgraphs/memory/services/worker';
import type { Job, Memory } from '../../subgraphs/memory/storage/memory-store';
import { PostgresMemoryStore } from '../../subgraphs/memory/storage/postgres-memory-store';
import { createTestDatabase } from '../support/database';
import { startFakeOpenAiServer, type FakeOpenAiServer } from '../support/fake-openai-server';
import {
  createOrgWithKeys,
  postGraphQL,
  startTestStack,
  type GraphQLResponse,
  type TestStack,
} from '../support/stack';

/**
 * Durable ingestion (issue 3, deliverable 3) on the real memory subgraph: work is accepted
 * through the gateway and processed by IngestionWorkers built from the subgraph's own classes
 * on connections of their own, as separate worker processes would be.
 *
 * Embeddings come from the OpenAiEmbedder talking to the fake OpenAI server (deterministic
 * hash vectors, fakeEmbedding), not the local USE-lite model: this is a test of the queue and
 * the pipeline's bookkeeping, and the fast embedder keeps 2,000 chunks within seconds while
 * still going through a real Embedder adapter over HTTP.
 */

const EMBEDDINGS_MODEL = 'fake-embedder';
const EMBEDDINGS_DIMENSIONS = 8;

const JOB_FIELDS = 'jobId status stage processed failed total errors priority';
const INGEST_EVENTS = `mutation($orgId: ID, $events: [EventInput!]!, $priority: IngestionPriority!) {
  ingestEvents(orgId: $orgId, events: $events, priority: $priority) { ${JOB_FIELDS} } }`;
const INGEST_DOCUMENTS = `mutation($orgId: ID, $documents: [DocumentInput!]!, $priority: IngestionPriority!) {
  ingestDocuments(orgId: $orgId, documents: $documents, priority: $priority) { ${JOB_FIELDS} } }`;
const JOB = `query($jobId: ID!) { job(jobId: $jobId) { ${JOB_FIELDS} } }`;
const MEMORIES = `query($orgId: ID, $actorId: ID, $documentId: ID, $after: String) {
  memories(orgId: $orgId, actorId: $actorId, documentId: $documentId, first: 100, after: $after, includeClosed: true) {
    nodes { id content validTo scope { level id } provenance { eventIds documentId documentVersion chunkIndex } }
    pageInfo { hasNextPage endCursor } } }`;
const UPSERT_ACTOR = `mutation($input: UpsertActorInput!) { upsertActor(input: $input) { actorId } }`;

interface GqlJob {
  jobId: string;
  status: Job['status'];
  stage: string | null;
  processed: number;
  failed: number;
  total: number;
  errors: string[];
  priority: Job['priority'];
}
interface GqlMemory {
  id: string;
  content: string;
  validTo: string | null;
  scope: { level: string; id: string };
  provenance: {
    eventIds: string[];
    documentId: string | null;
    documentVersion: number | null;
    chunkIndex: number | null;
  };
}

type Gql = <T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
  key?: string | null,
) => Promise<GraphQLResponse<T>>;

function data<T>(response: GraphQLResponse<T>, what: string): T {
  if (response.errors || !response.data)
    throw new Error(`${what} failed: ${JSON.stringify(response.errors)}`);
  return response.data;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await sleep(25);
  }
}

/** A client of one org through the gateway. */
function orgClient(gql: Gql, orgId: string, key: string) {
  return {
    async ingestEvents(
      events: Array<{ eventId: string; actorId: string; content: string }>,
      priority: Job['priority'] = 'REALTIME',
    ): Promise<GqlJob> {
      const input = events.map((event) => ({ sessionId: 'session-1', kind: 'USER_MESSAGE', ...event }));
      return data(
        await gql<{ ingestEvents: GqlJob }>(INGEST_EVENTS, { orgId, events: input, priority }, key),
        'ingestEvents',
      ).ingestEvents;
    },
    async ingestDocuments(
      documents: Array<{ documentId: string; content: string }>,
      priority: Job['priority'] = 'BOOTSTRAP',
    ): Promise<GqlJob> {
      return data(
        await gql<{ ingestDocuments: GqlJob }>(INGEST_DOCUMENTS, { orgId, documents, priority }, key),
        'ingestDocuments',
      ).ingestDocuments;
    },
    async job(jobId: string): Promise<GqlJob> {
      return data(await gql<{ job: GqlJob }>(JOB, { jobId }, key), 'job').job;
    },
    waitForJob(jobId: string, status: Job['status'] = 'DONE', timeoutMs?: number): Promise<GqlJob> {
      return waitFor(
        `job ${jobId} ${status}`,
        () => this.job(jobId),
        (job) => job.status === status,
        timeoutMs,
      );
    },
    /** Every memory (closed ones included) of an actor or a document, all pages. */
    async memories(filter: { actorId?: string; documentId?: string }): Promise<GqlMemory[]> {
      const all: GqlMemory[] = [];
      let after: string | null = null;
      for (;;) {
        const page: {
          memories: { nodes: GqlMemory[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
        } = data(await gql(MEMORIES, { orgId, ...filter, after }, key), 'memories');
        all.push(...page.memories.nodes);
        if (!page.memories.pageInfo.hasNextPage) return all;
        after = page.memories.pageInfo.endCursor;
      }
    },
    async upsertActor(actorId: string): Promise<void> {
      data(await gql(UPSERT_ACTOR, { input: { orgId, actorId, displayName: actorId } }, key), 'upsertActor');
    },
  };
}
type OrgClient = ReturnType<typeof orgClient>;

/**
 * Unrelated single-sentence facts: each makes exactly one memory, and no two share a subject
 * (no numbers or negations, few common words), so the organize stage keeps them all.
 */
const FACTS = [
  'Ada keeps the staging credentials inside the blue vault.',
  'Our mobile release goes through TestFlight before the store.',
  'Marketing prefers Figma for campaign mockups.',
  'The billing service is written in Kotlin.',
  'Customer support escalates outages via PagerDuty.',
  'Quarterly planning happens in Lisbon every spring.',
  'The analytics warehouse runs on Snowflake.',
  'Legal reviews each vendor contract prior to signature.',
];

function facts(prefix: string, actorId: string, count: number) {
  return FACTS.slice(0, count).map((content, i) => ({ eventId: `${prefix}-${i}`, actorId, content }));
}

/** Memories grouped by the event they came from: exactly one each, or the test says which. */
function expectOneMemoryPerEvent(memories: GqlMemory[], eventIds: string[]): void {
  expect(memories.every((memory) => memory.validTo === null)).toBe(true);
  const sources = memories.map((memory) => memory.provenance.eventIds);
  expect(sources.every((ids) => ids.length === 1)).toBe(true);
  expect(sources.flat().sort()).toEqual([...eventIds].sort());
}

/**
 * A JobQueue as a worker process sees it, with a scripted death: `killAt` a pipeline stage
 * (the process dies before writing anything) or `killBeforeFinish` (it wrote its memories
 * but died before recording the outcome). Once dead it claims nothing; the items it held
 * stay leased until their lease runs out.
 */
class MortalQueue implements JobQueue {
  dead = false;
  readonly claims: Array<{ at: number; items: WorkItem[] }> = [];
  readonly finished: Array<{ at: number; outcomes: ItemOutcome[] }> = [];
  /** Called after each recorded finish, inside the worker loop (the worker waits for it). */
  afterFinish: (outcomes: readonly ItemOutcome[]) => Promise<void> = async () => {};

  constructor(
    private readonly inner: JobQueue,
    private readonly death: { killAt?: string; killBeforeFinish?: boolean } = {},
  ) {}

  async claim(limit: number, leaseSeconds: number): Promise<WorkItem[]> {
    if (this.dead) return [];
    const at = Date.now();
    const items = await this.inner.claim(limit, leaseSeconds);
    if (items.length > 0) this.claims.push({ at, items });
    return items;
  }

  async setStage(jobIds: readonly string[], stage: string): Promise<void> {
    if (this.death.killAt === stage) this.die(`killed in stage ${stage}`);
    await this.inner.setStage(jobIds, stage);
  }

  async finish(outcomes: readonly ItemOutcome[], maxAttempts: number): Promise<void> {
    if (this.death.killBeforeFinish) this.die('killed before recording outcomes');
    await this.inner.finish(outcomes, maxAttempts);
    this.finished.push({ at: Date.now(), outcomes: [...outcomes] });
    await this.afterFinish(outcomes);
  }

  private die(why: string): never {
    this.dead = true;
    throw new Error(why);
  }
}

interface TestWorker {
  queue: MortalQueue;
  store: PostgresMemoryStore;
  errors: unknown[];
  stop(): Promise<void>;
}

describe('durable ingestion', () => {
  let fake: FakeOpenAiServer;
  const embeddingsEnv = () => ({
    EMBEDDINGS_BASE_URL: fake.url,
    EMBEDDINGS_MODEL,
    EMBEDDINGS_DIMENSIONS: String(EMBEDDINGS_DIMENSIONS),
  });

  beforeAll(async () => {
    fake = await startFakeOpenAiServer();
  });
  afterAll(async () => {
    await fake?.close();
  });

  describe('a job accepted is never lost', () => {
    it('events accepted while no worker runs are processed after the whole stack restarts', async () => {
      const database = await createTestDatabase();
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsy-durability-'));
      const start = (worker: 'on' | 'off') =>
        startStack(
          loadConfig({
            NODE_ENV: 'test',
            PORT: '0',
            MEMSY_DATA_DIR: dataDir,
            MEMORY_WORKER: worker,
            MEMORY_WORKER_POLL_MS: '50',
            ...embeddingsEnv(),
          }),
          { database: database.target },
        );
      let stack: Awaited<ReturnType<typeof startStack>> | undefined;
      try {
        stack = await start('off');
        const gql: Gql = (query, variables, key) => postGraphQL(stack!.url, query, variables, key);
        const orgId = 'acme-restart';
        const { adminKey } = await createOrgWithKeys({ ...stack, gql } as TestStack, orgId);
        let org = orgClient(gql, orgId, adminKey);
        await org.upsertActor('ada');
        const events = facts('restart', 'ada', 8);
        const accepted = await org.ingestEvents(events);
        expect(accepted).toMatchObject({ status: 'QUEUED', total: 8, processed: 0 });

        // No worker: the job waits, untouched.
        await sleep(300);
        expect(await org.job(accepted.jobId)).toMatchObject({ status: 'QUEUED', processed: 0 });
        expect(await org.memories({ actorId: 'ada' })).toEqual([]);

        // The process goes away; a new one (with its in-process worker) starts on the same database.
        await stack.close();
        stack = await start('on');
        const restarted: Gql = (query, variables, key) => postGraphQL(stack!.url, query, variables, key);
        org = orgClient(restarted, orgId, adminKey);
        const done = await org.waitForJob(accepted.jobId);
        expect(done).toMatchObject({ processed: 8, failed: 0, total: 8, errors: [] });
        expectOneMemoryPerEvent(
          await org.memories({ actorId: 'ada' }),
          events.map((event) => event.eventId),
        );
      } finally {
        await stack?.close();
        await database.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  });

  describe('with workers run beside the stack', () => {
    let stack: TestStack;
    let org: OrgClient;
    const workers = new Set<TestWorker>();

    beforeAll(async () => {
      stack = await startTestStack({ MEMORY_WORKER: 'off', ...embeddingsEnv() });
      const orgId = 'acme-durable';
      const { adminKey } = await createOrgWithKeys(stack, orgId);
      org = orgClient(stack.gql, orgId, adminKey);
      for (const actor of ['bea', 'cy', 'dee', 'eve']) await org.upsertActor(actor);
    });
    afterEach(async () => {
      for (const worker of workers) await worker.stop();
      fake.setMode({ kind: 'ok' });
    });
    afterAll(async () => {
      await stack?.close();
    });

    /**
     * An ingestion worker as its own process would run it: its own connection to the database,
     * the subgraph's pipeline and worker classes, the hierarchy through a service identity.
     */
    async function startWorker(
      options: {
        batchSize?: number;
        leaseSeconds?: number;
        killAt?: string;
        killBeforeFinish?: boolean;
      } = {},
    ): Promise<TestWorker> {
      const dataSource: DataSource = await openSubgraphDatabase(stack.database, MEMORY_DATABASE);
      const store = new PostgresMemoryStore(dataSource, dataSource);
      const queue = new MortalQueue(new PostgresJobQueue(dataSource), options);
      const embedder = new OpenAiEmbedder({
        baseUrl: fake.url,
        model: EMBEDDINGS_MODEL,
        dimensions: EMBEDDINGS_DIMENSIONS,
        timeoutMs: 5_000,
        maxRetries: 0,
      });
      const pipeline = new IngestionPipeline(
        store,
        queue,
        {
          categorizer: new RuleCategorizer(),
          extractor: new RuleExtractor(),
          chunker: new SentenceChunker(),
          embedder,
        },
        new HierarchyScopeDirectory(stack.subgraphUrls.hierarchy!, stack.internalSecret),
        // The stack's entity subgraph, as the in-process worker would use it.
        stack.subgraphUrls.entity
          ? new EntitySubgraphLinker(stack.subgraphUrls.entity, stack.internalSecret)
          : undefined,
      );
      const errors: unknown[] = [];
      const worker = new IngestionWorker(queue, pipeline, {
        batchSize: options.batchSize ?? 32,
        pollMs: 20,
        leaseSeconds: options.leaseSeconds ?? 60,
        log: (_message, error) => errors.push(error),
      });
      worker.start();
      let stopped: Promise<void> | undefined;
      const handle: TestWorker = {
        queue,
        store,
        errors,
        stop: () =>
          (stopped ??= (async () => {
            await worker.stop();
            await dataSource.destroy();
            workers.delete(handle);
          })()),
      };
      workers.add(handle);
      return handle;
    }

    describe('a worker killed mid-job', () => {
      it('before it wrote anything: another worker resumes once the lease ran out', async () => {
        const events = facts('crash-early', 'bea', 6);
        const accepted = await org.ingestEvents(events);

        const doomed = await startWorker({ leaseSeconds: 1, killAt: 'embed' });
        await waitFor('the first worker to die', async () => doomed.queue.dead, Boolean, 10_000);
        await doomed.stop();
        expect(doomed.errors.map(String)).toEqual(['Error: killed in stage embed']);
        expect(doomed.queue.claims.flatMap((claim) => claim.items)).toHaveLength(6);
        // It held every item, wrote nothing and recorded nothing.
        expect(await org.job(accepted.jobId)).toMatchObject({ status: 'RUNNING', processed: 0 });
        expect(await org.memories({ actorId: 'bea' })).toEqual([]);

        const rescuer = await startWorker();
        const done = await org.waitForJob(accepted.jobId);
        expect(done).toMatchObject({ processed: 6, failed: 0, errors: [] });
        const resumed = rescuer.queue.claims.flatMap((claim) => claim.items);
        expect(resumed.map((item) => item.attempts)).toEqual([2, 2, 2, 2, 2, 2]);
        // Not before the lease ran out.
        expect(rescuer.queue.claims[0]!.at).toBeGreaterThanOrEqual(doomed.queue.claims[0]!.at + 900);
        expectOneMemoryPerEvent(
          await org.memories({ actorId: 'bea' }),
          events.map((event) => event.eventId),
        );
      });

      it('after it wrote its memories but before recording it: resuming creates no duplicates', async () => {
        const events = facts('crash-late', 'cy', 6);
        const eventJob = await org.ingestEvents(events);
        const documentJob = await org.ingestDocuments(
          [
            {
              documentId: 'runbook',
              content:
                'Restart the queue with the admin console. Check the dead-letter topic every morning. ' +
                'Escalate to the on-call lead when more than ten messages wait.',
            },
            { documentId: 'glossary', content: 'A lease is the time a worker may hold an item.' },
          ],
          'REALTIME',
        );

        const doomed = await startWorker({ leaseSeconds: 1, killBeforeFinish: true });
        await waitFor('the first worker to die', async () => doomed.queue.dead, Boolean, 10_000);
        await doomed.stop();
        expect(doomed.errors.map(String)).toEqual(['Error: killed before recording outcomes']);

        // Everything was written, nothing recorded.
        const written = await org.memories({ actorId: 'cy' });
        expectOneMemoryPerEvent(
          written,
          events.map((event) => event.eventId),
        );
        const runbook = await org.memories({ documentId: 'runbook' });
        const glossary = await org.memories({ documentId: 'glossary' });
        expect(runbook.length).toBeGreaterThanOrEqual(1);
        expect(glossary).toHaveLength(1);
        for (const jobId of [eventJob.jobId, documentJob.jobId]) {
          expect(await org.job(jobId)).toMatchObject({ status: 'RUNNING', processed: 0 });
        }

        const rescuer = await startWorker();
        await org.waitForJob(eventJob.jobId);
        expect(await org.waitForJob(documentJob.jobId)).toMatchObject({ processed: 2, failed: 0 });
        expect(await org.job(eventJob.jobId)).toMatchObject({ processed: 6, failed: 0, errors: [] });
        expect(rescuer.queue.claims.flatMap((claim) => claim.items)).toHaveLength(8);

        // The same memories, not new ones: same ids, provenance not repeated.
        const after = await org.memories({ actorId: 'cy' });
        expect(after.map((memory) => memory.id).sort()).toEqual(written.map((memory) => memory.id).sort());
        expectOneMemoryPerEvent(
          after,
          events.map((event) => event.eventId),
        );
        expect(await org.memories({ documentId: 'runbook' })).toEqual(runbook);
        expect(await org.memories({ documentId: 'glossary' })).toEqual(glossary);
        expect(runbook.map((memory) => memory.provenance.chunkIndex)).toEqual(
          runbook.map((_, index) => index),
        );
      });

      it('a model failing once is retried, and the job still ends with one memory per event', async () => {
        const events = facts('flaky-model', 'dee', 5);
        const accepted = await org.ingestEvents(events);
        fake.setMode({ kind: 'status', status: 503, times: 1 });

        const worker = await startWorker();
        const done = await org.waitForJob(accepted.jobId);
        expect(done).toMatchObject({ processed: 5, failed: 0, errors: [] });
        const claimed = worker.queue.claims.flatMap((claim) => claim.items);
        expect(claimed.map((item) => item.attempts)).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
        const [firstTry] = worker.queue.finished;
        expect(firstTry!.outcomes.every((outcome) => !outcome.ok)).toBe(true);
        expectOneMemoryPerEvent(
          await org.memories({ actorId: 'dee' }),
          events.map((event) => event.eventId),
        );
      });
    });

    describe('priorities', () => {
      const DOCUMENTS = 2_000;
      const BATCH = 25;
      let bootstrapJobs: string[];

      /** Bootstrap items processed so far, over all bootstrap jobs (read from the database). */
      async function bootstrapProcessed(worker: TestWorker): Promise<number> {
        const jobs = await worker.store.getJobs(bootstrapJobs);
        return jobs.reduce((sum, job) => sum + job.processed, 0);
      }

      it('BOOTSTRAP does not starve REALTIME, and still finishes afterwards', async () => {
        // 2,000 single-chunk documents: 2,000 bootstrap chunks, in 20 jobs of 100.
        bootstrapJobs = [];
        for (let batch = 0; batch < DOCUMENTS / 100; batch++) {
          const documents = Array.from({ length: 100 }, (_, i) => {
            const n = batch * 100 + i;
            return {
              documentId: `kb-${n}`,
              content: `Knowledge base article ${n}: parcels for region ${n % 17} leave the depot at ${n % 24}:00.`,
            };
          });
          const job = await org.ingestDocuments(documents, 'BOOTSTRAP');
          expect(job).toMatchObject({ status: 'QUEUED', total: 100, priority: 'BOOTSTRAP' });
          bootstrapJobs.push(job.jobId);
        }
        // Then one realtime event, queued behind the whole backlog.
        const first = await org.ingestEvents([
          {
            eventId: 'urgent-1',
            actorId: 'eve',
            content: 'The production database password rotates every 14 days.',
          },
        ]);

        const worker = await startWorker({ batchSize: BATCH });
        const doneAt = new Map<string, number>();
        worker.queue.afterFinish = async (outcomes) => {
          for (const outcome of outcomes) {
            // Realtime jobs here are single events: their first outcome finishes them.
            if (!bootstrapJobs.includes(outcome.jobId) && !doneAt.has(outcome.jobId))
              doneAt.set(outcome.jobId, await bootstrapProcessed(worker));
          }
        };

        // Realtime work first: the very first claim starts with the realtime event.
        await org.waitForJob(first.jobId);
        const [firstClaim] = worker.queue.claims;
        expect(firstClaim!.items[0]!.payload).toEqual({ type: 'event', eventId: 'urgent-1' });
        expect(doneAt.get(first.jobId)).toBeLessThanOrEqual(BATCH);
        expect(await org.memories({ actorId: 'eve' })).toEqual([
          expect.objectContaining({
            content: 'The production database password rotates every 14 days.',
            provenance: expect.objectContaining({ eventIds: ['urgent-1'] }),
          }),
        ]);

        // A realtime event arriving while the backlog is being worked through goes next.
        await waitFor(
          'bootstrap progress',
          () => bootstrapProcessed(worker),
          (n) => n >= 2 * BATCH,
        );
        const requestedAt = Date.now();
        const second = await org.ingestEvents([
          { eventId: 'urgent-2', actorId: 'eve', content: 'Invoices above 5000 euros need two approvals.' },
        ]);
        const acceptedAt = Date.now();
        await org.waitForJob(second.jobId);
        const claims = worker.queue.claims;
        const urgent = claims.findIndex((claim) =>
          claim.items.some((item) => item.payload.type === 'event' && item.payload.eventId === 'urgent-2'),
        );
        // Claimed first, by the first claim that could see it (none started before the request).
        expect(claims[urgent]!.items[0]!.payload).toEqual({ type: 'event', eventId: 'urgent-2' });
        expect(claims[urgent]!.at).toBeGreaterThanOrEqual(requestedAt);
        const firstAfterAccepted = claims.findIndex((claim) => claim.at > acceptedAt);
        if (firstAfterAccepted !== -1) expect(urgent).toBeLessThanOrEqual(firstAfterAccepted);
        const processedWhenDone = doneAt.get(second.jobId)!;
        // Stored long before the backlog drains: most of it is still waiting.
        expect(processedWhenDone).toBeLessThan(DOCUMENTS / 4);
        expect(await org.memories({ actorId: 'eve' })).toHaveLength(2);

        // And the backlog is not starved either: once the realtime work is done, it all finishes.
        const bootstrap = await waitFor(
          'the bootstrap backlog',
          () => worker.store.getJobs(bootstrapJobs),
          (jobs) => jobs.every((job) => job.status === 'DONE'),
          60_000,
        );
        expect(bootstrap.every((job) => job.processed === 100 && job.failed === 0)).toBe(true);
        const chunks = await worker.store.listMemories(
          { orgId: 'acme-durable', level: 'ORG' },
          { first: DOCUMENTS + 10 },
        );
        const documents = new Set(chunks.map((memory: Memory) => memory.provenance.documentId));
        expect(chunks.filter((memory) => memory.provenance.documentId?.startsWith('kb-'))).toHaveLength(
          DOCUMENTS,
        );
        expect([...documents].filter((id) => id?.startsWith('kb-'))).toHaveLength(DOCUMENTS);
        expect(worker.errors).toEqual([]);
      }, 90_000);
    });
  });
});
