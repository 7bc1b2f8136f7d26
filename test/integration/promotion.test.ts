import { randomUUID } from 'node:crypto';
import { OpenAiChatClient } from '../../common/llm/openai-chat-client';
import type { LocalSentenceEmbedder } from '../../subgraphs/memory/embedding/local-sentence-embedder';
import {
  centroid,
  clusterBySimilarity,
  differentValue,
  dot,
  splitByValue,
} from '../../subgraphs/memory/services/promotion-clustering';
import {
  DeterministicPromotionJudge,
  LlmPromotionJudge,
  type PromotionJudge,
} from '../../subgraphs/memory/services/promotion-judge';
import type { PromotionService } from '../../subgraphs/memory/services/promotion-service';
import type { Memory, MemoryStore } from '../../subgraphs/memory/storage/memory-store';
import {
  startFakeOpenAiServer,
  type ChatCompletionBody,
  type FakeOpenAiServer,
} from '../support/fake-openai-server';
import {
  CODE_REVIEW,
  insertActorPreference,
  onlyProposal,
  openMemoryTestBed,
  ORG_FOCUS,
  POSTGRES_TESTS,
  PROMOTION_SETTINGS,
  promotionService,
  TestScopeDirectory,
  type MemoryTestBed,
} from '../support/promotion-fixtures';

/**
 * Issue 6: the promotion engine on the real embedded Postgres and the real local encoder,
 * with the hierarchy given as a directory (prompts made by the real template generator).
 */

/** Said by a sixth engineer, in other words again. */
const SIXTH_POSTGRES = 'I prefer using a real Postgres database for tests.';
const LUNCH = [
  'I like pizza for lunch on Fridays.',
  'Pizza is my favourite lunch on a Friday.',
  'On Fridays I love having pizza for lunch.',
];
const SOLO = 'I use vim keybindings in every editor.';

describe('memory promotion engine', () => {
  let bed: MemoryTestBed;
  let embedder: LocalSentenceEmbedder;
  let store: MemoryStore;
  const directory = new TestScopeDirectory();

  function service(judge?: PromotionJudge): PromotionService {
    return promotionService(bed, directory, PROMOTION_SETTINGS, judge);
  }

  /** An org in the directory, named after its id: roles and teams with template prompts, actors with a role and team. */
  async function defineOrg(
    orgId: string,
    roles: Record<string, string>,
    teams: Record<string, string>,
    actors: Record<string, { roleId?: string; teamId?: string }>,
  ): Promise<void> {
    await directory.defineOrg({ orgId, name: `${orgId} Inc`, focus: ORG_FOCUS, roles, teams, actors });
  }

  /** An actor's memory as the pipeline stores it (one event each), with a real vector. */
  async function say(orgId: string, actorId: string, content: string): Promise<string> {
    return insertActorPreference(bed, {
      orgId,
      actorId,
      content,
      eventId: `evt_${randomUUID()}`,
      mentions: content.includes('Postgres') ? [{ name: 'Postgres', type: 'PRODUCT' }] : [],
    });
  }

  async function all(orgId: string): Promise<Memory[]> {
    return store.listMemories({ orgId, includeClosed: true }, { first: 1000 });
  }

  beforeAll(async () => {
    bed = await openMemoryTestBed();
    ({ embedder, store } = bed);
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('clusters paraphrases of one statement at the default threshold and keeps other statements apart (measured)', async () => {
    const texts = [...POSTGRES_TESTS, SIXTH_POSTGRES, ...LUNCH, ...CODE_REVIEW, SOLO];
    const vectors = await embedder.embed(texts);
    const items = texts.map((text, i) => ({ text, embedding: vectors[i]! }));
    const clusters = clusterBySimilarity(items, PROMOTION_SETTINGS.clusterSimilarity).map((cluster) =>
      cluster.map((item) => item.text),
    );
    expect(clusters).toEqual(
      expect.arrayContaining([[...POSTGRES_TESTS, SIXTH_POSTGRES], [...LUNCH], [...CODE_REVIEW], [SOLO]]),
    );
    expect(clusters).toHaveLength(4);
    // The figures behind the default: paraphrases are close, different statements far apart.
    const pairs = (a: number[], b: number[]) =>
      a.flatMap((i) => b.filter((j) => j !== i).map((j) => dot(vectors[i]!, vectors[j]!)));
    const postgres = [0, 1, 2, 3, 4, 5];
    const others = texts.map((_, i) => i).filter((i) => i > 5);
    const within = pairs(postgres, postgres);
    const across = pairs(postgres, others);
    expect(within.reduce((a, b) => a + b) / within.length).toBeGreaterThan(0.75);
    expect(Math.max(...across)).toBeLessThan(0.6);
  });

  it('splits statements that embed alike but say different values (Thursdays / Mondays)', async () => {
    const texts = [
      'We deploy on Thursdays.',
      'Our deploys happen on Thursdays.',
      'We deploy on Mondays.',
      'Deployments go out on Thursdays.',
    ];
    const vectors = await embedder.embed(texts);
    expect(dot(vectors[0]!, vectors[2]!)).toBeGreaterThan(0.9);
    const [cluster, ...rest] = clusterBySimilarity(
      texts.map((text, i) => ({ text, embedding: vectors[i]! })),
      PROMOTION_SETTINGS.clusterSimilarity,
    );
    expect(cluster!.map((item) => item.text)).toContain('We deploy on Mondays.');
    const parts = splitByValue(cluster!, (item) => item.text).map((part) => part.map((item) => item.text));
    expect(parts).toContainEqual(['We deploy on Mondays.']);
    expect(parts.find((part) => part.includes('We deploy on Thursdays.'))).not.toContain(
      'We deploy on Mondays.',
    );
    expect(rest.flat().map((item) => item.text)).not.toContain('We deploy on Mondays.');
    // A swapped common word is a synonym, not a value; numbers are values.
    expect(differentValue(CODE_REVIEW[0]!, 'Code reviews should be finished within one business day.')).toBe(
      false,
    );
    expect(differentValue('Refunds within 30 days.', 'Refunds within 45 days.')).toBe(true);
    expect(differentValue('I prefer Rust for the parser.', 'I prefer Go for the parser.')).toBe(true);
  });

  it('the deterministic judge passes a cluster relevant to the org focus and fails lunch preferences', async () => {
    await defineOrg('judge-org', {}, {}, {});
    const org = directory.orgs.get('judge-org')!;
    const judge = new DeterministicPromotionJudge(embedder);
    const request = async (texts: string[]) => ({
      level: 'ORG' as const,
      targetName: org.name!,
      promotionPrompt: org.promotionPrompt,
      focus: org.focus!,
      members: texts.map((content) => ({ content, supporter: content })),
      centroid: centroid(await embedder.embed(texts)),
      support: 3,
      minSupport: 3,
      minScore: PROMOTION_SETTINGS.minScore,
    });
    const relevant = await judge.judge(await request(CODE_REVIEW.slice(0, 3)));
    const lunch = await judge.judge(await request(LUNCH));
    expect(relevant).toMatchObject({ promote: true, statement: CODE_REVIEW[0] });
    expect(lunch.promote).toBe(false);
    expect(relevant.score).toBeGreaterThan(lunch.score + 0.2);
    expect(lunch.reason).toMatch(/< 0\.30$/);
    // More support cannot carry an irrelevant cluster.
    const crowded = await judge.judge({ ...(await request(LUNCH)), support: 50 });
    expect(crowded.promote).toBe(false);
  });

  describe('an org with two roles and two teams', () => {
    const ORG = 'promo-org';
    const ids = { postgres: [] as string[], lunch: [] as string[], review: [] as string[], solo: '' };

    beforeAll(async () => {
      await defineOrg(
        ORG,
        { backend: 'APIs, testing, Postgres', frontend: 'React, TypeScript, design systems' },
        { platform: 'Infrastructure, CI/CD, reliability', growth: 'Onboarding and activation' },
        {
          e1: { roleId: 'backend', teamId: 'platform' },
          e2: { roleId: 'backend', teamId: 'platform' },
          e3: { roleId: 'backend', teamId: 'platform' },
          e4: { roleId: 'backend', teamId: 'growth' },
          e5: { roleId: 'backend', teamId: 'growth' },
          e6: { roleId: 'backend', teamId: 'platform' },
          f1: { roleId: 'frontend', teamId: 'growth' },
          f2: { roleId: 'frontend', teamId: 'growth' },
          f3: { roleId: 'frontend', teamId: 'growth' },
        },
      );
      for (const [i, actor] of ['e1', 'e2', 'e3', 'e4', 'e5'].entries())
        ids.postgres.push(await say(ORG, actor, POSTGRES_TESTS[i]!));
      for (const [i, actor] of ['f1', 'f2', 'f3'].entries()) ids.lunch.push(await say(ORG, actor, LUNCH[i]!));
      for (const [i, actor] of ['e1', 'e2', 'e4', 'f1', 'f2', 'f3'].entries())
        ids.review.push(await say(ORG, actor, CODE_REVIEW[i]!));
      ids.solo = await say(ORG, 'e1', SOLO);
    });

    it('a dry run lists the proposals with support, score and prompt, and writes no memory', async () => {
      const before = await all(ORG);
      const version = await store.orgContextVersion(ORG);
      const run = await service().run(ORG, true);
      expect(run.dryRun).toBe(true);
      expect(await all(ORG)).toEqual(before);
      expect(await store.orgContextVersion(ORG)).toBe(version);
      const [job] = await store.getJobs([run.jobId]);
      expect(job).toMatchObject({ kind: 'PROMOTE_MEMORIES', status: 'DONE', failed: 0 });
      expect(job!.processed).toBe(job!.total);
      expect(job!.message).toMatch(/^dry run, nothing written/);

      const role = onlyProposal(run.proposals, 'ROLE', 'backend', /Postgres/);
      expect(role).toMatchObject({
        decision: 'PROMOTE',
        applied: false,
        memoryId: null,
        support: 5,
        minSupport: 3,
        supporters: ['e1', 'e2', 'e3', 'e4', 'e5'],
        judge: 'deterministic',
        sourceLevels: ['ACTOR'],
      });
      expect(role.sourceMemoryIds).toEqual([...ids.postgres].sort());
      expect(role.eventIds).toHaveLength(5);
      expect(role.prompt).toBe(directory.orgs.get(ORG)!.roles.get('backend')!.promotionPrompt);
      expect(role.score).toBeGreaterThanOrEqual(0.3);
      // Lunch: enough support in the frontend role and the growth team, rejected by the judge.
      expect(onlyProposal(run.proposals, 'ROLE', 'frontend', /lunch/).decision).toBe('REJECT');
      expect(onlyProposal(run.proposals, 'TEAM', 'growth', /lunch/).decision).toBe('REJECT');
      // Stated by one actor only: no proposal at all.
      expect(run.proposals.filter((p) => /vim/.test(p.statement))).toEqual([]);
      // The org step sees what the role and team steps would have promoted.
      const org = onlyProposal(run.proposals, 'ORG', ORG, /review/);
      expect(org).toMatchObject({ decision: 'PROMOTE', support: 3, sourceLevels: ['ROLE', 'TEAM'] });
      expect(org.supporters).toEqual(['ROLE:backend', 'ROLE:frontend', 'TEAM:growth']);
      expect(org.sourceMemoryIds.every((id) => id.startsWith('proposed:'))).toBe(true);
      // Postgres testing is shared by the backend role and the platform team only: 2 < 3.
      expect(
        run.proposals.filter((p) => p.targetScope.level === 'ORG' && /Postgres/.test(p.statement)),
      ).toEqual([]);
    });

    it('promotes: one role memory with five sources, their events, support 5; sources stay; org context bumped', async () => {
      const version = await store.orgContextVersion(ORG);
      const run = await service().run(ORG, false);
      const role = onlyProposal(run.proposals, 'ROLE', 'backend', /Postgres/);
      expect(role).toMatchObject({ decision: 'PROMOTE', applied: true });
      const [memory] = await store.getMemories([role.memoryId!]);
      expect(memory).toMatchObject({
        scope: { level: 'ROLE', id: 'backend' },
        actorId: null,
        embeddingModel: embedder.modelId,
        validTo: null,
      });
      expect(POSTGRES_TESTS).toContain(memory!.content);
      expect([...memory!.provenance.sourceMemoryIds].sort()).toEqual([...ids.postgres].sort());
      const sources = await store.getMemories(ids.postgres);
      expect([...memory!.provenance.eventIds].sort()).toEqual(
        sources.flatMap((source) => source.provenance.eventIds).sort(),
      );
      expect(memory!.metadata.promotion).toMatchObject({
        support: 5,
        judge: 'deterministic',
        jobId: run.jobId,
      });
      expect((await store.mentions([memory!.id])).get(memory!.id)).toEqual([
        { name: 'Postgres', type: 'PRODUCT' },
      ]);
      // The sources are untouched, at their own scope.
      expect(sources.every((source) => source.scope.level === 'ACTOR' && source.validTo === null)).toBe(true);

      // The team of three of them gets it too; the org does not (two groups only).
      expect(onlyProposal(run.proposals, 'TEAM', 'platform', /Postgres/)).toMatchObject({
        decision: 'PROMOTE',
        support: 3,
      });
      // The org gets the code-review practice, promoted from the role and team memories just written.
      const org = onlyProposal(run.proposals, 'ORG', ORG, /review/);
      expect(org).toMatchObject({ decision: 'PROMOTE', applied: true });
      const [orgMemory] = await store.getMemories([org.memoryId!]);
      const fromGroups = await store.getMemories(orgMemory!.provenance.sourceMemoryIds);
      expect(fromGroups.map((m) => `${m.scope.level}:${m.scope.id}`).sort()).toEqual([
        'ROLE:backend',
        'ROLE:frontend',
        'TEAM:growth',
      ]);
      // Lineage down to the events of every actor behind them.
      expect(new Set(orgMemory!.provenance.eventIds)).toEqual(
        new Set((await store.getMemories(ids.review)).flatMap((m) => m.provenance.eventIds)),
      );
      expect(await store.orgContextVersion(ORG)).toBeGreaterThan(version);
      // Lunch and the solo preference are nowhere above the actors.
      const promoted = (await all(ORG)).filter((m) => m.scope.level !== 'ACTOR');
      expect(promoted.filter((m) => /lunch|vim/i.test(m.content))).toEqual([]);
    });

    it('is idempotent: a second run writes nothing and says UNCHANGED', async () => {
      const before = await all(ORG);
      const version = await store.orgContextVersion(ORG);
      const run = await service().run(ORG, false);
      expect(await all(ORG)).toEqual(before);
      expect(await store.orgContextVersion(ORG)).toBe(version);
      const decisions = new Set(run.proposals.map((p) => p.decision));
      expect(decisions).toEqual(new Set(['UNCHANGED', 'REJECT']));
    });

    it('a sixth supporter updates the existing promoted memory: support 6, six sources', async () => {
      const sixth = await say(ORG, 'e6', SIXTH_POSTGRES);
      const count = (await all(ORG)).length;
      const run = await service().run(ORG, false);
      const role = onlyProposal(run.proposals, 'ROLE', 'backend', /Postgres/);
      expect(role).toMatchObject({ decision: 'UPDATE', applied: true, support: 6 });
      expect(await all(ORG)).toHaveLength(count);
      const [memory] = await store.getMemories([role.memoryId!]);
      expect([...memory!.provenance.sourceMemoryIds].sort()).toEqual([...ids.postgres, sixth].sort());
      expect(memory!.provenance.eventIds).toHaveLength(6);
      expect(memory!.metadata.promotion).toMatchObject({ support: 6, jobId: run.jobId });
      // e6 is on the platform team too: that promoted memory now has four supporters.
      expect(onlyProposal(run.proposals, 'TEAM', 'platform', /Postgres/)).toMatchObject({
        decision: 'UPDATE',
        support: 4,
      });
    });

    it('per-org thresholds: a higher actor support keeps the role promotion from happening in a fresh org', async () => {
      await defineOrg(
        'strict-org',
        { backend: 'APIs, testing, Postgres' },
        {},
        Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((id) => [id, { roleId: 'backend' }])),
      );
      for (const [i, actor] of ['a', 'b', 'c', 'd', 'e'].entries())
        await say('strict-org', actor, POSTGRES_TESTS[i]!);
      const promotionService = service();
      await expect(
        promotionService.updateSettings('strict-org', { minActorSupport: 1 }),
      ).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
      });
      const settings = await promotionService.updateSettings('strict-org', { minActorSupport: 6 });
      expect(settings).toMatchObject({
        minActorSupport: 6,
        minGroupSupport: 3,
        defaults: PROMOTION_SETTINGS,
      });
      const strict = await promotionService.run('strict-org', false);
      expect(strict.settings.minActorSupport).toBe(6);
      expect(strict.proposals).toEqual([]);
      await promotionService.updateSettings('strict-org', { minActorSupport: null });
      expect((await promotionService.settings('strict-org')).minActorSupport).toBe(3);
      const relaxed = await promotionService.run('strict-org', true);
      expect(relaxed.proposals.map((p) => p.decision)).toEqual(['PROMOTE']);
    });
  });

  describe('with an LLM judge (a local server speaking the OpenAI protocol)', () => {
    let llm: FakeOpenAiServer;
    const ORG = 'llm-org';
    const STATEMENT = 'Backend engineers run integration tests against a real Postgres database.';

    beforeAll(async () => {
      llm = await startFakeOpenAiServer({
        mode: {
          kind: 'ok',
          reply: (body: ChatCompletionBody) => {
            const user = body.messages?.at(-1)?.content ?? '';
            if (/pizza/i.test(user))
              return '```json\n{"promote": false, "score": 0.05, "reason": "lunch is personal"}\n```';
            return `Sure: {"promote": true, "statement": "${STATEMENT}", "score": 0.9, "reason": "a shared testing practice"}`;
          },
        },
      });
      await defineOrg(
        ORG,
        { backend: 'APIs, testing, Postgres' },
        {},
        Object.fromEntries(['a', 'b', 'c'].map((id) => [id, { roleId: 'backend' }])),
      );
      for (const [i, actor] of ['a', 'b', 'c'].entries()) {
        await say(ORG, actor, POSTGRES_TESTS[i]!);
        await say(ORG, actor, LUNCH[i]!);
      }
    });
    afterAll(() => llm?.close());

    function judge(): LlmPromotionJudge {
      return new LlmPromotionJudge(
        new OpenAiChatClient({ baseUrl: llm.url, model: 'judge-model', timeoutMs: 5000, maxRetries: 0 }),
      );
    }

    it("asks the model with the role's promotion prompt and stores the statement it wrote", async () => {
      const run = await service(judge()).run(ORG, false);
      const chats = llm.requests.filter((r) => r.path.endsWith('/chat/completions'));
      expect(chats).toHaveLength(2);
      const rolePrompt = directory.orgs.get(ORG)!.roles.get('backend')!.promotionPrompt;
      for (const chat of chats) {
        const user = (chat.body as ChatCompletionBody).messages!.at(-1)!.content;
        expect(user).toContain(`[Role promotion prompt]\n${rolePrompt}`);
        expect(user).toContain('Support: 3 distinct members (minimum 3)');
      }
      const promoted = onlyProposal(run.proposals, 'ROLE', 'backend', /Postgres/);
      expect(promoted).toMatchObject({
        decision: 'PROMOTE',
        statement: STATEMENT,
        score: 0.9,
        judge: 'llm:judge-model',
        reason: 'a shared testing practice',
      });
      expect(onlyProposal(run.proposals, 'ROLE', 'backend', /pizza/i)).toMatchObject({
        decision: 'REJECT',
        reason: 'lunch is personal',
      });
      const [memory] = await store.getMemories([promoted.memoryId!]);
      expect(memory!.content).toBe(STATEMENT);
      // The model's statement was embedded: it takes part in vector search like any memory.
      const [similar] = await store.findSimilar(
        ORG,
        { level: 'ROLE', id: 'backend' },
        embedder.modelId,
        (await embedder.embed([STATEMENT]))[0]!,
        1,
      );
      expect(similar).toMatchObject({ id: memory!.id });
      expect(similar!.similarity).toBeGreaterThan(0.99);
    });

    it('a malformed answer is an ERROR proposal and a failed item on the job, not a promotion', async () => {
      llm.setMode({ kind: 'ok', reply: 'I think so, yes.' });
      await defineOrg(
        'llm-broken',
        { backend: 'APIs' },
        {},
        Object.fromEntries(['a', 'b', 'c'].map((id) => [id, { roleId: 'backend' }])),
      );
      for (const [i, actor] of ['a', 'b', 'c'].entries()) await say('llm-broken', actor, POSTGRES_TESTS[i]!);
      const run = await service(judge()).run('llm-broken', false);
      expect(run.proposals).toHaveLength(1);
      expect(run.proposals[0]).toMatchObject({ decision: 'ERROR', applied: false, memoryId: null });
      expect(run.proposals[0]!.reason).toMatch(/not valid JSON: I think so, yes\./);
      const [job] = await store.getJobs([run.jobId]);
      expect(job).toMatchObject({ status: 'DONE', failed: 1 });
      expect(job!.errors[0]).toMatch(/^ROLE backend: LLM promotion judge/);
      expect((await all('llm-broken')).filter((m) => m.scope.level !== 'ACTOR')).toEqual([]);
    });
  });

  it('an unknown org is NOT_FOUND and starts no job', async () => {
    await expect(service().start('no-such-org', true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
