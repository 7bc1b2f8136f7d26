import type { DataSource } from 'typeorm';
import { openSubgraphDatabase, type DatabaseTarget } from '../../common/db/data-source';
import { MEMORY_DATABASE } from '../../subgraphs/memory';
import type { ItemOutcome, WorkItem, WorkPayload } from '../../subgraphs/memory/queue/job-queue';
import { PostgresJobQueue } from '../../subgraphs/memory/queue/postgres-job-queue';
import type { Job, MemoryStore, Priority } from '../../subgraphs/memory/storage/memory-store';
import { PostgresMemoryStore } from '../../subgraphs/memory/storage/postgres-memory-store';
import { DATABASE_TARGETS, reportServerTarget, unique } from '../support/database';

/**
 * Contract suite of the JobQueue port's Postgres adapter (FOR UPDATE SKIP LOCKED + leases):
 * claim order, exclusive claims across connections, lease expiry, retries and job
 * completion. Jobs are written and read through the MemoryStore, as the services do. Runs
 * against the embedded Postgres always, and a Postgres server when DATABASE_URL is set.
 */

reportServerTarget('JobQueue contract');

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const events = (prefix: string, count: number): WorkPayload[] =>
  Array.from({ length: count }, (_, i) => ({ type: 'event', eventId: `${prefix}-${i}` }));

const ok = (item: WorkItem): ItemOutcome => ({ itemId: item.itemId, jobId: item.jobId, ok: true });
const failed = (item: WorkItem, error: string): ItemOutcome => ({
  itemId: item.itemId,
  jobId: item.jobId,
  ok: false,
  error,
});

/** What a payload stands for, for readable assertions. */
function label(item: WorkItem): string {
  return item.payload.type === 'event'
    ? item.payload.eventId
    : `${item.payload.documentId}@${item.payload.version}`;
}

describe.each(DATABASE_TARGETS)('JobQueue contract on $name', (target) => {
  let dataSource: DataSource;
  let databaseTarget: DatabaseTarget;
  let close: () => Promise<void>;
  let store: MemoryStore;
  let queue: PostgresJobQueue;

  beforeAll(async () => {
    const database = await target.open();
    close = database.close;
    databaseTarget = database.target;
    try {
      dataSource = await openSubgraphDatabase(database.target, MEMORY_DATABASE);
    } catch (error) {
      await close();
      throw error;
    }
    store = new PostgresMemoryStore(dataSource, dataSource);
    queue = new PostgresJobQueue(dataSource);
  });
  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await close?.();
  });
  // The queue is shared by every org: each test starts from an empty one.
  beforeEach(async () => {
    await dataSource.query('TRUNCATE memory.job_items, memory.jobs CASCADE');
  });

  async function enqueue(payloads: WorkPayload[], priority: Priority = 'REALTIME'): Promise<Job> {
    const now = new Date();
    const job: Job = {
      jobId: unique('job'),
      orgId: 'org-1',
      kind: payloads[0]?.type === 'document' ? 'INGEST_DOCUMENTS' : 'INGEST_EVENTS',
      priority,
      status: 'QUEUED',
      stage: 'queued',
      processed: 0,
      failed: 0,
      total: payloads.length,
      errors: [],
      message: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    };
    await store.insertJob(job, payloads);
    return job;
  }

  async function job(jobId: string): Promise<Job> {
    const [found] = await store.getJobs([jobId]);
    if (!found) throw new Error(`job ${jobId} not found`);
    return found;
  }

  it('claims realtime items before bootstrap items, then in queue order, and marks their jobs RUNNING', async () => {
    const bootstrap = await enqueue(
      [
        { type: 'document', documentId: 'handbook', version: 1 },
        { type: 'document', documentId: 'policy', version: 2 },
        { type: 'document', documentId: 'faq', version: 1 },
      ],
      'BOOTSTRAP',
    );
    const realtime = await enqueue(events('rt', 2), 'REALTIME');
    const laterBootstrap = await enqueue([{ type: 'document', documentId: 'late', version: 1 }], 'BOOTSTRAP');
    const laterRealtime = await enqueue(events('rt-late', 1), 'REALTIME');

    const first = await queue.claim(2, 60);
    expect(first.map(label)).toEqual(['rt-0', 'rt-1']);
    expect(first[0]).toEqual({
      itemId: expect.any(String),
      jobId: realtime.jobId,
      orgId: 'org-1',
      priority: 0,
      payload: { type: 'event', eventId: 'rt-0' },
      attempts: 1,
    });
    const running = await job(realtime.jobId);
    expect(running.status).toBe('RUNNING');
    expect(running.startedAt).toBeInstanceOf(Date);
    expect((await job(bootstrap.jobId)).status).toBe('QUEUED');
    expect((await job(bootstrap.jobId)).startedAt).toBeNull();

    const second = await queue.claim(3, 60);
    expect(second.map(label)).toEqual(['rt-late-0', 'handbook@1', 'policy@2']);
    expect(second.slice(1).every((item) => item.priority === 1 && item.jobId === bootstrap.jobId)).toBe(true);
    expect((await job(bootstrap.jobId)).status).toBe('RUNNING');
    expect((await job(laterRealtime.jobId)).status).toBe('RUNNING');
    expect((await job(laterBootstrap.jobId)).status).toBe('QUEUED');

    // A realtime item queued now still goes before the bootstrap items left.
    const urgent = await enqueue(events('urgent', 1), 'REALTIME');
    const third = await queue.claim(10, 60);
    expect(third.map(label)).toEqual(['urgent-0', 'faq@1', 'late@1']);
    expect((await job(urgent.jobId)).status).toBe('RUNNING');
    expect((await job(laterBootstrap.jobId)).status).toBe('RUNNING');

    // Nothing is left to claim while the leases last; a later claim keeps the start time.
    expect(await queue.claim(10, 60)).toEqual([]);
    expect((await job(realtime.jobId)).startedAt).toEqual(running.startedAt);
  });

  it('never hands the same item to two concurrent claimers (separate connection pools)', async () => {
    const total = 200;
    const work = await enqueue(events('bulk', total), 'BOOTSTRAP');
    // One DataSource per claimer, as separate worker processes would have.
    const pools = await Promise.all(
      Array.from({ length: 4 }, () => openSubgraphDatabase(databaseTarget, MEMORY_DATABASE)),
    );
    try {
      const claimed = await Promise.all(
        pools.map(async (pool) => {
          const own = new PostgresJobQueue(pool);
          const mine: WorkItem[] = [];
          for (;;) {
            const items = await own.claim(7, 60);
            if (items.length === 0) break;
            mine.push(...items);
            await sleep(Math.random() * 3); // "processing": lets the others interleave
            await own.finish(items.map(ok), 3);
          }
          return mine;
        }),
      );

      const all = claimed.flat();
      const ids = all.map(label);
      expect(ids).toHaveLength(total);
      expect(new Set(ids).size).toBe(total);
      expect(new Set(all.map((item) => item.itemId)).size).toBe(total);
      expect(all.every((item) => item.attempts === 1)).toBe(true);
      expect(claimed.filter((mine) => mine.length > 0).length).toBeGreaterThanOrEqual(2);
      // Every claimer saw its items in queue order.
      for (const mine of claimed) {
        const order = mine.map((item) => Number(item.itemId));
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }

      const done = await job(work.jobId);
      expect(done).toMatchObject({ status: 'DONE', processed: total, failed: 0, total, stage: 'done' });
      expect(done.finishedAt).toBeInstanceOf(Date);
      expect(await queue.claim(10, 60)).toEqual([]);
    } finally {
      await Promise.all(pools.map((pool) => pool.destroy()));
    }
  });

  it('claims an item again once its lease ran out, counting the attempt; it is finished once', async () => {
    const work = await enqueue(events('leased', 1));
    const [first] = await queue.claim(5, 1);
    expect(first).toMatchObject({ attempts: 1 });
    expect(await queue.claim(5, 60)).toEqual([]); // still leased

    await sleep(1_200);
    const [again] = await queue.claim(5, 60);
    expect(again).toEqual({ ...first, attempts: 2 });
    expect((await job(work.jobId)).status).toBe('RUNNING');

    // The first claimer comes back late: its outcome counts; the second's is not counted again.
    await queue.finish([ok(first!)], 3);
    await queue.finish([ok(again!)], 3);
    expect(await job(work.jobId)).toMatchObject({ status: 'DONE', processed: 1, failed: 0, total: 1 });
    expect(await queue.claim(5, 60)).toEqual([]);
  });

  it('retries a failed item after a backoff until maxAttempts, then counts it failed with its error', async () => {
    const work = await enqueue(events('flaky', 1));
    const [first] = await queue.claim(5, 60);
    await queue.finish([failed(first!, 'model unavailable (1)')], 2);
    expect(await job(work.jobId)).toMatchObject({
      status: 'RUNNING',
      processed: 0,
      failed: 0,
      errors: [],
      finishedAt: null,
    });
    // A failed attempt waits (attempts × 1 s) before it is claimed again.
    expect(await queue.claim(5, 60)).toEqual([]);

    await sleep(1_200);
    const [second] = await queue.claim(5, 60);
    expect(second).toEqual({ ...first, attempts: 2 });
    await queue.finish([failed(second!, 'model unavailable (2)')], 2);

    const final = await job(work.jobId);
    expect(final).toMatchObject({
      status: 'FAILED',
      stage: 'done',
      processed: 1,
      failed: 1,
      total: 1,
      errors: ['model unavailable (2)'],
    });
    expect(final.finishedAt).toBeInstanceOf(Date);
    expect(await queue.claim(5, 60)).toEqual([]);
  });

  it('a job is DONE when all items are processed, even with some failed; FAILED when all failed', async () => {
    const mixed = await enqueue(events('mixed', 3));
    const hopeless = await enqueue(events('hopeless', 2));
    const items = await queue.claim(10, 60);
    const mine = (jobId: string) => items.filter((item) => item.jobId === jobId);
    expect(mine(mixed.jobId)).toHaveLength(3);

    const [m0, m1, m2] = mine(mixed.jobId);
    await queue.finish([ok(m0!)], 1);
    expect(await job(mixed.jobId)).toMatchObject({
      status: 'RUNNING',
      processed: 1,
      failed: 0,
      finishedAt: null,
    });
    await queue.finish(
      [failed(m1!, 'bad input'), ok(m2!), ...mine(hopeless.jobId).map((i) => failed(i, `no ${label(i)}`))],
      1,
    );

    expect(await job(mixed.jobId)).toMatchObject({
      status: 'DONE',
      stage: 'done',
      processed: 3,
      failed: 1,
      errors: ['bad input'],
    });
    const lost = await job(hopeless.jobId);
    expect(lost).toMatchObject({ status: 'FAILED', processed: 2, failed: 2 });
    expect([...lost.errors].sort()).toEqual(['no hopeless-0', 'no hopeless-1']);

    // Outcomes of items that are not running any more change nothing.
    await queue.finish([ok(m1!), failed(m0!, 'late')], 1);
    expect(await job(mixed.jobId)).toMatchObject({
      status: 'DONE',
      processed: 3,
      failed: 1,
      errors: ['bad input'],
    });
    await expect(queue.finish([], 1)).resolves.toBeUndefined();
  });

  it('setStage only touches RUNNING jobs', async () => {
    const queued = await enqueue(events('q', 1), 'BOOTSTRAP');
    const running = await enqueue(events('r', 2), 'REALTIME');
    const finished = await enqueue(events('f', 1), 'REALTIME');
    const claimed = await queue.claim(3, 60); // r-0, r-1, f-0: the bootstrap job stays queued
    expect(claimed.map(label)).toEqual(['r-0', 'r-1', 'f-0']);
    await queue.finish(claimed.filter((item) => item.jobId === finished.jobId).map(ok), 3);

    await queue.setStage([queued.jobId, running.jobId, finished.jobId, 'job-missing'], 'embed');
    expect(await job(running.jobId)).toMatchObject({ status: 'RUNNING', stage: 'embed' });
    expect(await job(queued.jobId)).toMatchObject({ status: 'QUEUED', stage: 'queued' });
    expect(await job(finished.jobId)).toMatchObject({ status: 'DONE', stage: 'done' });
    await expect(queue.setStage([], 'store')).resolves.toBeUndefined();
    expect((await job(running.jobId)).stage).toBe('embed');
  });
});
