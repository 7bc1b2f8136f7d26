import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../../common/config';
import type { LocalSentenceEmbedder } from '../../subgraphs/memory/embedding/local-sentence-embedder';
import { PromotionScheduler } from '../../subgraphs/memory/services/promotion-scheduler';
import type { MemoryStore } from '../../subgraphs/memory/storage/memory-store';
import type { PostgresPromotionStore } from '../../subgraphs/memory/storage/postgres-promotion-store';
import {
  eventMemory,
  openMemoryTestBed,
  ORG_FOCUS,
  PROMOTION_SETTINGS,
  promotionService,
  TestScopeDirectory,
  type MemoryTestBed,
} from '../support/promotion-fixtures';

/** Issue 6: promotion on a schedule, per org, stopped cleanly; and its configuration. */
describe('scheduled promotion', () => {
  let bed: MemoryTestBed;
  let dataSource: DataSource;
  let embedder: LocalSentenceEmbedder;
  let store: MemoryStore;
  let promotions: PostgresPromotionStore;
  const directory = new TestScopeDirectory();
  const service = () => promotionService(bed, directory, PROMOTION_SETTINGS);

  /** An org whose three engineers share one preference. */
  async function seedOrg(orgId: string): Promise<void> {
    const actors = ['a', 'b', 'c'];
    directory.orgs.set(orgId, {
      orgId,
      name: orgId,
      focus: ORG_FOCUS,
      promotionPrompt: 'Keep what matters to a company building developer tools.',
      roles: new Map([
        ['backend', { name: 'Backend', focus: 'APIs, testing, Postgres', promotionPrompt: 'Testing.' }],
      ]),
      teams: new Map(),
      actors: new Map(actors.map((id) => [id, { roleId: 'backend', teamId: null }])),
    });
    const texts = [
      'I prefer to write integration tests against a real Postgres database.',
      'I always test against a real Postgres instance rather than mocks.',
      'I like integration tests that hit a real Postgres DB.',
    ];
    const vectors = await embedder.embed(texts);
    for (const [i, actorId] of actors.entries()) {
      await store.insertMemory(
        eventMemory({
          orgId,
          scope: { level: 'ACTOR', id: actorId },
          actorId,
          content: texts[i]!,
          category: 'PREFERENCE',
          embedding: vectors[i]!,
          embeddingModel: embedder.modelId,
          eventIds: [randomUUID()],
        }),
      );
    }
  }

  const roleMemories = (orgId: string) => store.listMemories({ orgId, level: 'ROLE' }, { first: 100 });
  /** The org's promotion jobs, oldest first. */
  const promotionJobs = async (orgId: string) =>
    (await store.listJobs(orgId, undefined, { first: 100 }))
      .filter((job) => job.kind === 'PROMOTE_MEMORIES')
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    bed = await openMemoryTestBed();
    ({ dataSource, embedder, store, promotions } = bed);
    await seedOrg('sched-1');
    await seedOrg('sched-2');
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('is off at 0 seconds (the default) and configured through PROMOTION_* variables', () => {
    const defaults = loadConfig({ NODE_ENV: 'test' }).promotion;
    expect(defaults).toEqual({
      intervalSeconds: 0,
      minActorSupport: 3,
      minGroupSupport: 3,
      clusterSimilarity: 0.7,
      minScore: 0.3,
    });
    expect(
      loadConfig({
        PROMOTION_INTERVAL_SECONDS: '3600',
        PROMOTION_MIN_ACTOR_SUPPORT: '5',
        PROMOTION_MIN_SCORE: '0.4',
      }).promotion,
    ).toMatchObject({ intervalSeconds: 3600, minActorSupport: 5, minScore: 0.4 });
    expect(() => loadConfig({ PROMOTION_MIN_ACTOR_SUPPORT: '1' })).toThrow(ConfigError);
    expect(() => loadConfig({ PROMOTION_CLUSTER_SIMILARITY: '1.2' })).toThrow(/PROMOTION_CLUSTER_SIMILARITY/);
  });

  it('by default (PROMOTION_INTERVAL_SECONDS 0, no org interval) sets no timer and promotes nothing', async () => {
    const promotionService = service();
    const scheduler = new PromotionScheduler(promotionService, promotions, {
      intervalSeconds: 0,
      minTickSeconds: 0.05,
    });
    scheduler.start();
    await scheduler.refresh();
    expect(scheduler.active).toBe(false);
    expect(await scheduler.nextRoundInSeconds()).toBeNull();
    expect(await promotions.scheduledOrgs(0)).toEqual([]);
    expect(await scheduler.runOnce()).toEqual({ due: [], failed: 0 });
    await sleep(300);
    await scheduler.close();
    await promotionService.close();
    for (const orgId of ['sched-1', 'sched-2']) expect(await promotionJobs(orgId)).toEqual([]);
  });

  it('runs every org on its interval as ordinary jobs, and stops cleanly', async () => {
    const promotionService = service();
    const scheduler = new PromotionScheduler(promotionService, promotions, {
      intervalSeconds: 1,
      minTickSeconds: 0.2,
    });
    scheduler.start();
    const deadline = Date.now() + 20_000;
    while ((await roleMemories('sched-1')).length === 0 || (await roleMemories('sched-2')).length === 0) {
      if (Date.now() > deadline) throw new Error('the scheduler never promoted');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await scheduler.close();
    await promotionService.close();
    for (const orgId of ['sched-1', 'sched-2']) {
      const [memory] = await roleMemories(orgId);
      expect(memory!.provenance.sourceMemoryIds).toHaveLength(3);
      const jobs = await store.listJobs(orgId, undefined, { first: 10 });
      expect(jobs.some((job) => job.kind === 'PROMOTE_MEMORIES' && job.status === 'DONE')).toBe(true);
    }
    // Closed: no further rounds.
    const count = (await store.listJobs('sched-1', undefined, { first: 100 })).length;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await store.listJobs('sched-1', undefined, { first: 100 })).length).toBe(count);
  });

  it('with the default at 0, promotes an org whose own interval is 1 s, at most once a second, and no other org', async () => {
    await Promise.all(['own-1', 'own-0', 'own-null'].map(seedOrg));
    const promotionService = service();
    const scheduler = new PromotionScheduler(promotionService, promotions, {
      intervalSeconds: 0,
      minTickSeconds: 0.2,
    });
    const schedBefore = (await promotionJobs('sched-1')).length;
    scheduler.start();
    await scheduler.refresh();
    expect(scheduler.active).toBe(false);
    // Changing the settings wakes the idle scheduler (its listener re-plans).
    await promotionService.updateSettings('own-0', { intervalSeconds: 0 });
    const own = await promotionService.updateSettings('own-1', { intervalSeconds: 1 });
    expect(own).toMatchObject({ intervalSeconds: 1, defaults: { intervalSeconds: 0 } });
    await scheduler.refresh();
    expect(scheduler.active).toBe(true);
    const deadline = Date.now() + 20_000;
    while ((await promotionJobs('own-1')).filter((job) => job.status === 'DONE').length < 3) {
      if (Date.now() > deadline) throw new Error('the scheduler did not promote own-1 three times');
      await sleep(100);
    }
    await scheduler.close();
    await promotionService.close();
    expect(await roleMemories('own-1')).toHaveLength(1);
    const runs = await promotionJobs('own-1');
    // Each run starts at least its interval after the one before finished.
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.createdAt.getTime() - runs[i - 1]!.finishedAt!.getTime()).toBeGreaterThanOrEqual(950);
    }
    for (const orgId of ['own-0', 'own-null']) {
      expect(await promotionJobs(orgId)).toEqual([]);
      expect(await roleMemories(orgId)).toEqual([]);
    }
    expect(await promotionJobs('sched-1')).toHaveLength(schedBefore);
    // Back to never, so the next tests see only their own intervals.
    await service().updateSettings('own-1', { intervalSeconds: 0 });
    expect(await promotions.smallestOrgInterval()).toBeNull();
  });

  it('an org promoted recently (by request or on schedule) is not due before its interval; dry runs do not count', async () => {
    await seedOrg('recent');
    const promotionService = service();
    const scheduler = new PromotionScheduler(promotionService, promotions, { intervalSeconds: 0 });
    await promotionService.updateSettings('recent', { intervalSeconds: 3600 });
    await promotionService.run('recent', true);
    expect(await promotions.scheduledOrgs(0)).toEqual([
      { orgId: 'recent', intervalSeconds: 3600, secondsSinceLastRun: null, running: false },
    ]);
    // An admin promotes it by request: the next scheduled run is an hour later.
    await promotionService.run('recent', false);
    const jobs = (await promotionJobs('recent')).length;
    expect(await scheduler.runOnce()).toEqual({ due: [], failed: 0 });
    const next = await scheduler.nextRoundInSeconds();
    expect(next).toBeGreaterThan(3500);
    expect(next).toBeLessThanOrEqual(3600.05);
    // With a 1 s interval it is due once that second has passed, and then not again at once.
    await promotionService.updateSettings('recent', { intervalSeconds: 1 });
    await sleep(1100);
    expect(await scheduler.runOnce()).toEqual({ due: ['recent'], failed: 0 });
    expect(await promotionJobs('recent')).toHaveLength(jobs + 1);
    expect(await scheduler.runOnce()).toEqual({ due: [], failed: 0 });
    expect(await scheduler.nextRoundInSeconds()).toBe(5);
    await promotionService.updateSettings('recent', { intervalSeconds: 0 });
    await scheduler.close();
    await promotionService.close();
  });

  it('a round marks promotion jobs whose process died as FAILED', async () => {
    const jobId = `job_${randomUUID()}`;
    await store.insertJob(
      {
        jobId,
        orgId: 'sched-1',
        kind: 'PROMOTE_MEMORIES',
        priority: 'BOOTSTRAP',
        status: 'RUNNING',
        stage: 'judge',
        processed: 0,
        failed: 0,
        total: 2,
        errors: [],
        message: null,
        createdAt: new Date(Date.now() - 3_600_000),
        startedAt: new Date(Date.now() - 3_600_000),
        finishedAt: null,
        updatedAt: new Date(Date.now() - 3_600_000),
      },
      [],
    );
    await dataSource.query(
      `UPDATE memory.jobs SET updated_at = now() - interval '1 hour' WHERE job_id = $1`,
      [jobId],
    );
    const promotionService = service();
    const result = await new PromotionScheduler(promotionService, promotions, {
      intervalSeconds: 60,
    }).runOnce();
    expect(result.failed).toBe(0);
    const [job] = await store.getJobs([jobId]);
    expect(job).toMatchObject({ status: 'FAILED', message: 'interrupted: the process running it stopped' });
    await promotionService.close();
  });

  it('closing the service interrupts a run in hand: its job ends FAILED, nothing half-written', async () => {
    const promotionService = service();
    const { job } = await promotionService.start('sched-2', false);
    await promotionService.close();
    const [ended] = await store.getJobs([job.jobId]);
    // Either it had finished already, or it stopped at a step boundary.
    expect(['DONE', 'FAILED']).toContain(ended!.status);
    if (ended!.status === 'FAILED') expect(ended!.message).toBe('interrupted: the service is shutting down');
    expect(await roleMemories('sched-2')).toHaveLength(1);
    await expect(promotionService.start('sched-2', true)).rejects.toThrow(/closing/);
  });
});
