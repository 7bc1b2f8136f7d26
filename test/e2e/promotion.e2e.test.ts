import fs from 'node:fs';
import { expectData, expectError } from '../support/hierarchy-fixtures';
import {
  collectSubscription,
  expectJobDone,
  ingestEvents,
  JOB_PROGRESS,
  listMemories,
  upsertActor,
  waitForJob,
  type Progress,
} from '../support/memory-fixtures';
import { createOrgWithKeys, startTestStack, type TestStack } from '../support/stack';

/**
 * Issue 6 end to end, through the gateway as an admin uses it from GraphiQL: five engineers of
 * one role state the same preference in different words (real ingestion pipeline, real
 * encoder, deterministic judge); an admin dry-runs promotion, watches it on jobProgress,
 * reviews the proposals, applies it; a new engineer of the role then gets the role's memory
 * in context, and a source engineer does not get it twice.
 */

const ORG = 'promo-e2e';
const PROMOTE = `mutation($orgId: ID, $dryRun: Boolean!) {
  promoteMemories(orgId: $orgId, dryRun: $dryRun) { jobId orgId status dryRun judge settings { minActorSupport } proposals { statement } job { kind status } }
}`;
const PROMOTION_JOB = `query($jobId: ID!, $orgId: ID) {
  promotionJob(jobId: $jobId, orgId: $orgId) {
    jobId orgId status dryRun judge createdAt
    settings { minActorSupport minGroupSupport clusterSimilarity minScore }
    job { jobId kind status stage processed total failed errors message }
    proposals {
      targetScope { level id } targetName sourceLevels statement support minSupport supporters
      score minScore decision reason prompt judge sourceMemoryIds eventIds memoryId applied
    }
  }
}`;
const SETTINGS = `query($orgId: ID) { promotionSettings(orgId: $orgId) {
  orgId minActorSupport minGroupSupport clusterSimilarity minScore updatedAt
  defaults { minActorSupport minGroupSupport clusterSimilarity minScore } } }`;
const UPDATE_SETTINGS = `mutation($orgId: ID, $input: PromotionSettingsInput!) {
  updatePromotionSettings(orgId: $orgId, input: $input) { orgId minActorSupport minGroupSupport clusterSimilarity minScore updatedAt }
}`;
const CONTEXT = `query($actorId: ID!, $query: String!) {
  context(actorId: $actorId, query: $query, limit: 8) {
    items { scope { level id } explanation memory { id content provenance { sourceMemoryIds } } }
  }
}`;

const PREFERENCES = [
  'I prefer to write integration tests against a real Postgres database.',
  'I always test against a real Postgres instance rather than mocks.',
  'My preference is running tests on an actual Postgres database, not a fake one.',
  'I like integration tests that hit a real Postgres DB.',
  'Tests should run against real Postgres, I never mock the database.',
];
const ENGINEERS = ['eng1', 'eng2', 'eng3', 'eng4', 'eng5'];

interface Proposal {
  targetScope: { level: string; id: string };
  statement: string;
  support: number;
  supporters: string[];
  decision: string;
  sourceMemoryIds: string[];
  eventIds: string[];
  memoryId: string | null;
  applied: boolean;
  score: number | null;
  prompt: string;
}

describe('memory promotion through the gateway', () => {
  let stack: TestStack;
  let adminKey: string;
  let memberKey: string;
  let roleId: string;
  let rolePrompt: string;
  let promotedId: string;

  /** Starts a run and follows it on jobProgress until it ends. */
  async function promote(dryRun: boolean) {
    const started = expectData(await stack.gql(PROMOTE, { dryRun }, adminKey)).promoteMemories;
    const progress = await collectSubscription<{ jobProgress: Progress }>(stack, adminKey, JOB_PROGRESS, {
      jobId: started.jobId,
    });
    const run = expectData(await stack.gql(PROMOTION_JOB, { jobId: started.jobId }, adminKey)).promotionJob;
    return { started, progress, run };
  }

  beforeAll(async () => {
    stack = await startTestStack();
    ({ adminKey, memberKey } = await createOrgWithKeys(
      stack,
      ORG,
      'B2B SaaS company building developer tools',
    ));
    const role = expectData(
      await stack.gql(
        `mutation { createRole(input: { name: "Backend Engineer", focus: "APIs, testing, Postgres" }) { roleId promotionPrompt } }`,
        {},
        adminKey,
      ),
    ).createRole;
    roleId = role.roleId;
    rolePrompt = role.promotionPrompt;
    for (const actorId of [...ENGINEERS, 'newbie']) await upsertActor(stack, adminKey, { actorId, roleId });
    const job = await ingestEvents(stack, memberKey, [
      ...ENGINEERS.map((actorId, i) => ({ eventId: `pref-${i}`, actorId, content: PREFERENCES[i]! })),
      { eventId: 'solo', actorId: 'eng1', content: 'I use vim keybindings in every editor.' },
      ...['eng2', 'eng3', 'eng4'].map((actorId, i) => ({
        eventId: `lunch-${i}`,
        actorId,
        content: [
          'I like pizza for lunch on Fridays.',
          'Pizza is my favourite lunch on a Friday.',
          'On Fridays I love having pizza for lunch.',
        ][i]!,
      })),
    ]);
    await expectJobDone(stack, memberKey, job.jobId);
  });
  afterAll(() => stack?.close());

  it('is admin only: member keys get FORBIDDEN on every promotion field', async () => {
    expectError(await stack.gql(PROMOTE, { dryRun: true }, memberKey), 'FORBIDDEN');
    expectError(await stack.gql(SETTINGS, {}, memberKey), 'FORBIDDEN');
    expectError(await stack.gql(UPDATE_SETTINGS, { input: { minActorSupport: 4 } }, memberKey), 'FORBIDDEN');
    const own = expectData(await stack.gql(PROMOTE, { dryRun: true }, adminKey)).promoteMemories;
    await waitForJob(stack, adminKey, own.jobId);
    expectError(await stack.gql(PROMOTION_JOB, { jobId: own.jobId }, memberKey), 'FORBIDDEN');
    // The platform key names the org.
    expectError(await stack.gql(PROMOTE, { dryRun: true }, stack.adminKey), 'BAD_USER_INPUT');
    const platform = expectData(await stack.gql(PROMOTE, { orgId: ORG, dryRun: true }, stack.adminKey));
    expect(platform.promoteMemories).toMatchObject({
      orgId: ORG,
      dryRun: true,
      job: { kind: 'PROMOTE_MEMORIES' },
    });
    await waitForJob(stack, adminKey, platform.promoteMemories.jobId);
    expectError(
      await stack.gql(PROMOTE, { orgId: 'no-such-org', dryRun: true }, stack.adminKey),
      'NOT_FOUND',
    );
    expectError(await stack.gql(PROMOTION_JOB, { jobId: 'job_nope' }, adminKey), 'NOT_FOUND');
  });

  it('a dry run streams its progress, lists proposals with support, score and prompt, and writes nothing', async () => {
    const before = await listMemories(stack, adminKey, { includeClosed: true });
    const { started, progress, run } = await promote(true);
    expect(started).toMatchObject({ dryRun: true, judge: 'deterministic', settings: { minActorSupport: 3 } });
    expect(['QUEUED', 'RUNNING', 'DONE']).toContain(started.status);
    // jobProgress: the job's state at once, then each change, ending DONE with every step done.
    expect(progress.completed).toBe(true);
    const reports = progress.results.map((result) => result.data!.jobProgress);
    expect(reports.length).toBeGreaterThanOrEqual(1);
    expect(reports.at(-1)).toMatchObject({ jobId: started.jobId, status: 'DONE', stage: 'done', failed: 0 });
    expect(reports.at(-1)!.processed).toBe(reports.at(-1)!.total);
    expect(reports.at(-1)!.message).toMatch(/^dry run, nothing written: 2 proposals \(1 promote/);

    expect(run).toMatchObject({
      status: 'DONE',
      dryRun: true,
      job: { kind: 'PROMOTE_MEMORIES', status: 'DONE' },
    });
    const proposals = run.proposals as Proposal[];
    const preference = proposals.find((p) => /Postgres/.test(p.statement))!;
    expect(preference).toMatchObject({
      targetScope: { level: 'ROLE', id: roleId },
      decision: 'PROMOTE',
      support: 5,
      supporters: ENGINEERS,
      applied: false,
      memoryId: null,
      prompt: rolePrompt,
    });
    expect(preference.sourceMemoryIds).toHaveLength(5);
    expect([...preference.eventIds].sort()).toEqual(['pref-0', 'pref-1', 'pref-2', 'pref-3', 'pref-4']);
    expect(preference.score).toBeGreaterThanOrEqual(0.3);
    const lunch = proposals.find((p) => /lunch/.test(p.statement))!;
    expect(lunch).toMatchObject({ decision: 'REJECT', support: 3 });
    expect(proposals.some((p) => /vim/.test(p.statement))).toBe(false);
    expect(await listMemories(stack, adminKey, { includeClosed: true })).toEqual(before);
    if (process.env.PROMOTION_DRY_RUN_OUT)
      fs.writeFileSync(process.env.PROMOTION_DRY_RUN_OUT, JSON.stringify(run, null, 2));
  });

  it('applying it writes one role memory with five provenance links; the sources stay', async () => {
    const { run } = await promote(false);
    const applied = (run.proposals as Proposal[]).find((p) => /Postgres/.test(p.statement))!;
    expect(applied).toMatchObject({ decision: 'PROMOTE', applied: true });
    const role = await listMemories(stack, adminKey, { roleId });
    expect(role).toHaveLength(1);
    promotedId = role[0]!.id;
    expect(promotedId).toBe(applied.memoryId);
    expect(role[0]!.provenance.sourceMemoryIds).toHaveLength(5);
    expect([...role[0]!.provenance.eventIds].sort()).toEqual([
      'pref-0',
      'pref-1',
      'pref-2',
      'pref-3',
      'pref-4',
    ]);
    expect(role[0]!.metadata).toMatchObject({ promotion: { support: 5, judge: 'deterministic' } });
    const sources = await listMemories(stack, adminKey, { level: 'ACTOR' });
    for (const id of role[0]!.provenance.sourceMemoryIds)
      expect(sources.find((memory) => memory.id === id)?.scope.level).toBe('ACTOR');
  });

  it('a new engineer of the role gets the promoted memory in context', async () => {
    const items = expectData(
      await stack.gql(
        CONTEXT,
        { actorId: 'newbie', query: 'How should I test against Postgres?' },
        memberKey,
      ),
    ).context.items;
    expect(items[0]).toMatchObject({ scope: { level: 'ROLE', id: roleId }, memory: { id: promotedId } });
  });

  it('a source engineer gets their own copy only, which names the promoted one', async () => {
    const items = expectData(
      await stack.gql(CONTEXT, { actorId: 'eng1', query: 'How should I test against Postgres?' }, memberKey),
    ).context.items as Array<{
      scope: { level: string };
      explanation: string;
      memory: { id: string; content: string };
    }>;
    expect(items.map((item) => item.memory.id)).not.toContain(promotedId);
    const own = items.find((item) => item.memory.content === PREFERENCES[0]);
    expect(own).toMatchObject({ scope: { level: 'ACTOR' } });
    expect(own!.explanation).toContain(`also promoted to ROLE ${roleId} as ${promotedId}`);
  });

  it('re-running is idempotent, and a sixth engineer raises the support to six', async () => {
    const before = await listMemories(stack, adminKey, { includeClosed: true });
    const again = await promote(false);
    expect((again.run.proposals as Proposal[]).find((p) => /Postgres/.test(p.statement))).toMatchObject({
      decision: 'UNCHANGED',
      memoryId: promotedId,
    });
    expect(await listMemories(stack, adminKey, { includeClosed: true })).toEqual(before);

    await upsertActor(stack, adminKey, { actorId: 'eng6', roleId });
    const job = await ingestEvents(stack, memberKey, [
      { eventId: 'pref-5', actorId: 'eng6', content: 'I prefer using a real Postgres database for tests.' },
    ]);
    await expectJobDone(stack, memberKey, job.jobId);
    const sixth = await promote(false);
    expect((sixth.run.proposals as Proposal[]).find((p) => /Postgres/.test(p.statement))).toMatchObject({
      decision: 'UPDATE',
      support: 6,
      memoryId: promotedId,
      applied: true,
    });
    const role = await listMemories(stack, adminKey, { roleId });
    expect(role).toHaveLength(1);
    expect(role[0]!.provenance.sourceMemoryIds).toHaveLength(6);
    expect(role[0]!.metadata).toMatchObject({ promotion: { support: 6 } });
  });

  it('reads and changes the per-org thresholds', async () => {
    const initial = expectData(await stack.gql(SETTINGS, {}, adminKey)).promotionSettings;
    expect(initial).toMatchObject({ orgId: ORG, minActorSupport: 3, minGroupSupport: 3, updatedAt: null });
    expect(initial.defaults).toEqual({
      minActorSupport: 3,
      minGroupSupport: 3,
      clusterSimilarity: 0.7,
      minScore: 0.3,
    });
    for (const input of [{ minActorSupport: 1 }, { clusterSimilarity: 1.5 }, { minScore: -0.1 }]) {
      const error = expectError(await stack.gql(UPDATE_SETTINGS, { input }, adminKey), 'BAD_USER_INPUT');
      expect(error.extensions?.field).toBe(Object.keys(input)[0]);
    }
    const updated = expectData(
      await stack.gql(UPDATE_SETTINGS, { input: { minActorSupport: 7, minScore: 0.5 } }, adminKey),
    ).updatePromotionSettings;
    expect(updated).toMatchObject({ minActorSupport: 7, minScore: 0.5, clusterSimilarity: 0.7 });
    expect(updated.updatedAt).not.toBeNull();
    const { run } = await promote(true);
    expect(run.settings).toMatchObject({ minActorSupport: 7, minScore: 0.5 });
    expect(run.proposals).toEqual([]);
    const reset = expectData(
      await stack.gql(UPDATE_SETTINGS, { input: { minActorSupport: null, minScore: null } }, adminKey),
    ).updatePromotionSettings;
    expect(reset).toMatchObject({ minActorSupport: 3, minScore: 0.3, updatedAt: null });
  });

  it('reads and changes the per-org schedule; negative intervals are BAD_USER_INPUT', async () => {
    const SCHEDULE = `query { promotionSettings { intervalSeconds updatedAt defaults { intervalSeconds } } }`;
    const UPDATE_SCHEDULE = `mutation($input: PromotionSettingsInput!) {
      updatePromotionSettings(input: $input) { intervalSeconds minActorSupport updatedAt defaults { intervalSeconds } } }`;
    // The stack runs with PROMOTION_INTERVAL_SECONDS unset: no default schedule.
    expect(expectData(await stack.gql(SCHEDULE, {}, adminKey)).promotionSettings).toEqual({
      intervalSeconds: null,
      updatedAt: null,
      defaults: { intervalSeconds: 0 },
    });
    for (const intervalSeconds of [-1, 31_536_001]) {
      const error = expectError(
        await stack.gql(UPDATE_SCHEDULE, { input: { intervalSeconds } }, adminKey),
        'BAD_USER_INPUT',
      );
      expect(error.extensions?.field).toBe('intervalSeconds');
    }
    expect(expectData(await stack.gql(SCHEDULE, {}, adminKey)).promotionSettings.intervalSeconds).toBeNull();
    // A day: the org was promoted by the tests above, so the stack's scheduler does not run it now.
    const set = expectData(
      await stack.gql(UPDATE_SCHEDULE, { input: { intervalSeconds: 86_400 } }, adminKey),
    ).updatePromotionSettings;
    expect(set).toMatchObject({
      intervalSeconds: 86_400,
      minActorSupport: 3,
      defaults: { intervalSeconds: 0 },
    });
    expect(set.updatedAt).not.toBeNull();
    expect(expectData(await stack.gql(SCHEDULE, {}, adminKey)).promotionSettings.intervalSeconds).toBe(
      86_400,
    );
    // Other fields left out stay; 0 (never) is a value of its own, null restores the default.
    expectData(await stack.gql(UPDATE_SCHEDULE, { input: { minActorSupport: 4 } }, adminKey));
    expect(expectData(await stack.gql(SCHEDULE, {}, adminKey)).promotionSettings.intervalSeconds).toBe(
      86_400,
    );
    const never = expectData(
      await stack.gql(UPDATE_SCHEDULE, { input: { intervalSeconds: 0, minActorSupport: null } }, adminKey),
    ).updatePromotionSettings;
    expect(never).toMatchObject({ intervalSeconds: 0, minActorSupport: 3 });
    expect(never.updatedAt).not.toBeNull();
    const reset = expectData(
      await stack.gql(UPDATE_SCHEDULE, { input: { intervalSeconds: null } }, adminKey),
    ).updatePromotionSettings;
    expect(reset).toMatchObject({ intervalSeconds: null, updatedAt: null });
  });
});
