import { STAGES } from '../../subgraphs/memory/services/pipeline';
import { createTenant, type Tenant } from '../support/hierarchy-fixtures';
import {
  collectSubscription,
  expectJobDone,
  getJob,
  ingestDocuments,
  JOB_PROGRESS,
  listMemories,
  type Progress,
} from '../support/memory-fixtures';
import { startTestStack, type TestStack } from '../support/stack';

type ProgressData = { jobProgress: Progress };

const BATCH = 4;
const DOCUMENTS = 40;

/** Forty small documents (a few sentences each): ten worker batches of four. */
function documents(prefix: string) {
  return Array.from({ length: DOCUMENTS }, (_, i) => ({
    documentId: `${prefix}-${i}`,
    content:
      `Handbook section ${i} covers the expense policy for region ${i}. ` +
      `Travel above ${100 + i} dollars needs approval from the finance team. ` +
      `Receipts for section ${i} are filed in the Acme billing portal within ${i + 3} days.`,
  }));
}

describe('jobProgress subscription through the gateway', () => {
  let stack: TestStack;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    stack = await startTestStack({ MEMORY_WORKER_BATCH: String(BATCH) });
    [a, b] = await Promise.all([createTenant(stack, 'progress-a'), createTenant(stack, 'progress-b')]);
  });
  afterAll(() => stack?.close());

  it('streams pipeline stages and non-decreasing counts, ending with DONE, then completes', async () => {
    const job = await ingestDocuments(stack, a.memberKey, documents('handbook'));
    expect(job.total).toBe(DOCUMENTS);

    const outcome = await collectSubscription<ProgressData>(stack, a.memberKey, JOB_PROGRESS, {
      jobId: job.jobId,
    });

    expect(outcome.error).toBeUndefined();
    expect(outcome.completed).toBe(true);
    expect(outcome.results.every((result) => result.errors === undefined)).toBe(true);
    const events = outcome.results.map((result) => result.data!.jobProgress);
    expect(events.length).toBeGreaterThanOrEqual(3);

    for (const progress of events) {
      expect(progress).toMatchObject({ jobId: job.jobId, total: DOCUMENTS, failed: 0, errors: [] });
      expect(progress.processed).toBeGreaterThanOrEqual(0);
      expect(progress.processed).toBeLessThanOrEqual(DOCUMENTS);
    }
    events
      .slice(1)
      .forEach((progress, i) => expect(progress.processed).toBeGreaterThanOrEqual(events[i]!.processed));
    // Consecutive reports differ: a report is sent on change only.
    events.slice(1).forEach((progress, i) => expect(progress).not.toEqual(events[i]));

    // Several batches were seen in flight, each reporting pipeline stages.
    const inFlight = events.filter((progress) => progress.status === 'RUNNING');
    expect(new Set(inFlight.map((progress) => progress.processed)).size).toBeGreaterThanOrEqual(2);
    const stages = new Set(inFlight.map((progress) => progress.stage));
    const pipelineStages = [...stages].filter((stage) => (STAGES as readonly string[]).includes(stage!));
    expect(pipelineStages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect([...STAGES, 'queued']).toContain(stage);
    expect(events.slice(0, -1).every((progress) => progress.status !== 'DONE')).toBe(true);

    const last = events.at(-1)!;
    expect(last).toMatchObject({ status: 'DONE', stage: 'done', processed: DOCUMENTS, total: DOCUMENTS });
    expect(await getJob(stack, a.memberKey, job.jobId)).toMatchObject({
      status: 'DONE',
      processed: DOCUMENTS,
    });
    const stored = await listMemories(stack, a.memberKey, { documentId: 'handbook-39' });
    expect(stored).toHaveLength(1);
  });

  it('sends the final state at once for a job already done, then completes', async () => {
    const job = await ingestDocuments(stack, a.memberKey, [
      { documentId: 'tiny', content: 'A tiny note on Acme.' },
    ]);
    await expectJobDone(stack, a.memberKey, job.jobId);
    const outcome = await collectSubscription<ProgressData>(stack, a.adminKey, JOB_PROGRESS, {
      jobId: job.jobId,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.completed).toBe(true);
    expect(outcome.results).toEqual([
      {
        data: {
          jobProgress: {
            jobId: job.jobId,
            status: 'DONE',
            stage: 'done',
            processed: 1,
            total: 1,
            failed: 0,
            errors: [],
            message: null,
          },
        },
      },
    ]);
  });

  it('refuses a job of another org with NOT_FOUND, without any progress, while it runs', async () => {
    const job = await ingestDocuments(stack, b.adminKey, documents('b-handbook'));
    for (const key of [a.memberKey, a.adminKey]) {
      const outcome = await collectSubscription<ProgressData>(stack, key, JOB_PROGRESS, { jobId: job.jobId });
      const errors = outcome.results.flatMap((result) => result.errors ?? []);
      expect(errors.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(JSON.stringify(outcome)).not.toContain('"processed"');
      expect(outcome.results.every((result) => !result.data)).toBe(true);
    }
    // The owner still sees its job through to the end.
    const own = await collectSubscription<ProgressData>(stack, b.memberKey, JOB_PROGRESS, {
      jobId: job.jobId,
    });
    expect(own.completed).toBe(true);
    expect(own.results.at(-1)!.data!.jobProgress).toMatchObject({ status: 'DONE', processed: DOCUMENTS });
  });

  it('answers an unknown jobId with NOT_FOUND', async () => {
    const outcome = await collectSubscription<ProgressData>(stack, a.memberKey, JOB_PROGRESS, {
      jobId: 'job_00000000-0000-0000-0000-000000000000',
    });
    expect(outcome.results.flatMap((result) => result.errors ?? []).map((e) => e.extensions?.code)).toEqual([
      'NOT_FOUND',
    ]);
    expect(outcome.results.every((result) => !result.data)).toBe(true);
  });

  it.each([
    ['no key', null],
    ['an unknown key', 'msy_thisKeyDoesNotExist0000000000'],
  ])('refuses the connection with %s (close code 4403)', async (_label, key) => {
    const job = await ingestDocuments(stack, a.memberKey, [
      { documentId: `refused-${_label}`, content: 'Refused.' },
    ]);
    const outcome = await collectSubscription<ProgressData>(stack, key, JOB_PROGRESS, { jobId: job.jobId });
    expect(outcome.results).toEqual([]);
    expect(outcome.completed).toBe(false);
    expect(outcome.error).toBeDefined();
    expect(outcome.closed).toMatchObject({ code: 4403 });
  });
});
