import { MEMORY_LIMITS } from '../../subgraphs/memory/services/limits';
import { createTenant, expectData, expectError, sleep, type Tenant } from '../support/hierarchy-fixtures';
import {
  CREATE_MEMORY,
  createMemory,
  event,
  expectJobDone,
  getJob,
  ingestDocuments,
  ingestEvents,
  INGEST_DOCUMENTS,
  INGEST_EVENTS,
  JOBS_QUERY,
  listJobs,
  listMemories,
  MEMORIES_QUERY,
  MEMORY_FIELDS,
  snapshotMemoryData,
  upsertActor,
  type Job,
  type Memory,
  type Page,
} from '../support/memory-fixtures';
import { startTestStack, type TestStack } from '../support/stack';

const MEMORY_QUERY = `query($id: ID!) { memory(id: $id) { ${MEMORY_FIELDS} history { id content validTo supersededBy } } }`;

/** A timestamp (ISO string) is set and not in the future. */
const pastTimestamp = (value: string | null) => {
  expect(value).not.toBeNull();
  expect(Date.parse(value!)).toBeLessThanOrEqual(Date.now() + 1000);
};

describe('memory subgraph through the gateway', () => {
  let stack: TestStack;
  let a: Tenant;
  let b: Tenant;

  beforeAll(async () => {
    stack = await startTestStack();
    [a, b] = await Promise.all([createTenant(stack, 'mem-a'), createTenant(stack, 'mem-b')]);
  });
  afterAll(() => stack?.close());

  const memoryById = async (key: string, id: string) => stack.gql(MEMORY_QUERY, { id }, key);

  describe('conversation events', () => {
    it('returns the job at once, then stores ACTOR-scope memories with category, provenance and mentions', async () => {
      const response = await stack.gql(
        INGEST_EVENTS,
        {
          events: [
            event({
              eventId: 'ev-pref',
              actorId: a.actorId,
              content: 'I prefer dark mode in the Acme dashboard.',
            }),
            event({
              eventId: 'ev-fact',
              actorId: a.actorId,
              kind: 'ASSISTANT_MESSAGE',
              content: 'Alice Johnson from Globex asked about the refund policy for Product X.',
            }),
          ],
        },
        a.memberKey,
      );
      const job = expectData(response).ingestEvents;
      expect(['QUEUED', 'RUNNING']).toContain(job.status);
      expect(job).toMatchObject({
        orgId: a.orgId,
        kind: 'INGEST_EVENTS',
        priority: 'REALTIME',
        total: 2,
        failed: 0,
        errors: [],
        finishedAt: null,
      });

      const done = await expectJobDone(stack, a.memberKey, job.jobId);
      expect(done).toMatchObject({ total: 2, processed: 2, stage: 'done' });
      pastTimestamp(done.startedAt);
      pastTimestamp(done.finishedAt);

      const memories = await listMemories(stack, a.memberKey, { actorId: a.actorId });
      const byEvent = (id: string) => memories.find((memory) => memory.provenance.eventIds.includes(id));
      const preference = byEvent('ev-pref')!;
      const fact = byEvent('ev-fact')!;
      expect(preference).toMatchObject({
        orgId: a.orgId,
        content: 'I prefer dark mode in the Acme dashboard.',
        category: 'PREFERENCE',
        scope: { level: 'ACTOR', id: a.actorId },
        provenance: {
          eventIds: ['ev-pref'],
          documentId: null,
          documentVersion: null,
          chunkIndex: null,
          sourceMemoryIds: [],
        },
        validTo: null,
        supersededBy: null,
        embeddingModel: expect.any(String),
        metadata: expect.objectContaining({ sessionId: 'session-1', eventKind: 'USER_MESSAGE' }),
      });
      expect(preference.mentions.map((mention) => mention.name)).toContain('Acme');
      expect(fact).toMatchObject({
        category: 'FACT',
        scope: { level: 'ACTOR', id: a.actorId },
        provenance: { eventIds: ['ev-fact'] },
      });
      expect(fact.mentions).toEqual(
        expect.arrayContaining([
          { name: 'Alice Johnson', type: 'PERSON' },
          { name: 'Product X', type: 'PRODUCT' },
        ]),
      );

      // The same memories through the actor (Actor.memories, resolved by the memory subgraph).
      const viaActor = expectData(
        await stack.gql(
          `query($id: ID!) { actor(actorId: $id) { actorId memories { nodes { id scope { level id } } } } }`,
          { id: a.actorId },
          a.memberKey,
        ),
      );
      expect(viaActor.actor.memories.nodes.map((memory: Memory) => memory.id).sort()).toEqual(
        memories.map((memory) => memory.id).sort(),
      );
    });

    it('treats a re-sent eventId as a no-op, and the same eventId twice in one batch as one event', async () => {
      const before = await listMemories(stack, a.memberKey, { includeClosed: true });

      const resent = await ingestEvents(stack, a.memberKey, [
        { eventId: 'ev-pref', actorId: a.actorId, content: 'I prefer dark mode in the Acme dashboard.' },
        // Same id, other content: still the event already ingested.
        { eventId: 'ev-fact', actorId: a.actorId, content: 'Something else entirely about Initech.' },
      ]);
      expect(resent).toMatchObject({ status: 'DONE', total: 0, processed: 0, failed: 0 });
      expect(resent.message).toMatch(/2 of 2 events were already ingested/);
      expect((await getJob(stack, a.memberKey, resent.jobId)).status).toBe('DONE');

      const twice = await ingestEvents(stack, a.memberKey, [
        { eventId: 'ev-twice', actorId: a.actorId, content: 'Our staging cluster runs in Frankfurt.' },
        { eventId: 'ev-twice', actorId: a.actorId, content: 'Our staging cluster runs in Frankfurt.' },
      ]);
      expect(twice.total).toBe(1);
      await expectJobDone(stack, a.memberKey, twice.jobId);

      const after = await listMemories(stack, a.memberKey, { includeClosed: true });
      const added = after.filter((memory) => !before.some((old) => old.id === memory.id));
      expect(added).toHaveLength(1);
      expect(added[0]!.provenance.eventIds).toEqual(['ev-twice']);
      // Nothing already stored changed.
      expect(after.filter((memory) => memory.id !== added[0]!.id)).toEqual(before);
    });

    it('merges the provenance of the same statement sent under two eventIds into one memory', async () => {
      await upsertActor(stack, a.adminKey, { actorId: 'dup-actor' });
      const text = 'The quarterly report is due on the first Monday of each quarter.';
      const first = await ingestEvents(stack, a.memberKey, [
        { eventId: 'dup-1', actorId: 'dup-actor', content: text },
      ]);
      await expectJobDone(stack, a.memberKey, first.jobId);
      const second = await ingestEvents(stack, a.memberKey, [
        { eventId: 'dup-2', actorId: 'dup-actor', sessionId: 'session-2', content: text },
      ]);
      await expectJobDone(stack, a.memberKey, second.jobId);

      const memories = await listMemories(stack, a.memberKey, { actorId: 'dup-actor', includeClosed: true });
      expect(memories).toHaveLength(1);
      expect(memories[0]!.content).toBe(text);
      expect([...memories[0]!.provenance.eventIds].sort()).toEqual(['dup-1', 'dup-2']);
      expect(memories[0]!.validTo).toBeNull();
    });

    it('closes an older fact contradicted by a newer one at the same scope, keeping history', async () => {
      await upsertActor(stack, a.adminKey, { actorId: 'contra-actor' });
      const old = await ingestEvents(stack, a.memberKey, [
        { eventId: 'refund-30', actorId: 'contra-actor', content: 'My refund window is 30 days.' },
      ]);
      await expectJobDone(stack, a.memberKey, old.jobId);
      const [first] = await listMemories(stack, a.memberKey, { actorId: 'contra-actor' });
      expect(first!.content).toBe('My refund window is 30 days.');

      const newer = await ingestEvents(stack, a.memberKey, [
        { eventId: 'refund-45', actorId: 'contra-actor', content: 'My refund window is 45 days.' },
      ]);
      await expectJobDone(stack, a.memberKey, newer.jobId);

      const current = await listMemories(stack, a.memberKey, { actorId: 'contra-actor' });
      expect(current.map((memory) => memory.content)).toEqual(['My refund window is 45 days.']);
      const second = current[0]!;
      expect(second.provenance.eventIds).toEqual(['refund-45']);

      const closed = expectData(await memoryById(a.memberKey, first!.id)).memory;
      expect(closed.supersededBy).toBe(second.id);
      pastTimestamp(closed.validTo);
      expect(closed.provenance.eventIds).toEqual(['refund-30']);

      const latest = expectData(await memoryById(a.memberKey, second.id)).memory;
      expect(latest.history).toEqual([
        {
          id: first!.id,
          content: 'My refund window is 30 days.',
          validTo: closed.validTo,
          supersededBy: second.id,
        },
      ]);
      const all = await listMemories(stack, a.memberKey, { actorId: 'contra-actor', includeClosed: true });
      expect(all.map((memory) => memory.id).sort()).toEqual([first!.id, second.id].sort());
    });
  });

  describe('documents', () => {
    const policyV1 = 'Refunds are accepted within 30 days of purchase. Contact support@acme.com for help.';
    const policyV2 = 'Refunds are accepted within 14 days of purchase. Contact billing@acme.com for help.';

    it('stores documents without a scope as ORG context, with document provenance', async () => {
      const job = await ingestDocuments(stack, a.adminKey, [
        { documentId: 'refund-policy', content: policyV1, metadata: { title: 'Refunds' } },
      ]);
      expect(job).toMatchObject({ kind: 'INGEST_DOCUMENTS', priority: 'BOOTSTRAP', total: 1 });
      expect(['QUEUED', 'RUNNING']).toContain(job.status);
      await expectJobDone(stack, a.adminKey, job.jobId);

      const memories = await listMemories(stack, a.memberKey, { documentId: 'refund-policy' });
      expect(memories).toHaveLength(1);
      expect(memories[0]).toMatchObject({
        content: policyV1,
        category: 'DOCUMENT',
        scope: { level: 'ORG', id: a.orgId },
        provenance: { eventIds: [], documentId: 'refund-policy', documentVersion: 1, chunkIndex: 0 },
        metadata: expect.objectContaining({ title: 'Refunds' }),
        validTo: null,
      });
      expect(memories[0]!.mentions).toContainEqual({ name: 'support@acme.com', type: 'EMAIL' });
      const orgLevel = await listMemories(stack, a.memberKey, { level: 'ORG' });
      expect(orgLevel.map((memory) => memory.id)).toContain(memories[0]!.id);
    });

    it('stores team and role documents at that scope, split into sentence chunks', async () => {
      const runbook = Array.from(
        { length: 40 },
        (_, i) =>
          `Step ${i + 1} of the deploy runbook checks service number ${i + 1} before the rollout continues.`,
      ).join(' ');
      const teamJob = await ingestDocuments(
        stack,
        a.adminKey,
        [{ documentId: 'team-runbook', content: runbook }],
        {
          scope: { level: 'TEAM', teamId: a.teamId },
        },
      );
      const roleJob = await ingestDocuments(
        stack,
        a.adminKey,
        [
          {
            documentId: 'role-guide',
            content: 'Backend engineers review every Postgres migration before merging.',
          },
        ],
        { scope: { level: 'ROLE', roleId: a.roleId } },
      );
      await expectJobDone(stack, a.adminKey, teamJob.jobId);
      await expectJobDone(stack, a.adminKey, roleJob.jobId);

      const team = await listMemories(stack, a.memberKey, { documentId: 'team-runbook' });
      expect(team.length).toBeGreaterThan(1);
      for (const memory of team) {
        expect(memory.scope).toEqual({ level: 'TEAM', id: a.teamId });
        expect(memory.provenance).toMatchObject({ documentId: 'team-runbook', documentVersion: 1 });
        expect(runbook).toContain(memory.content.split(' ').slice(0, 6).join(' '));
      }
      expect(team.map((memory) => memory.provenance.chunkIndex).sort((x, y) => x! - y!)).toEqual(
        team.map((_, i) => i),
      );
      expect(await listMemories(stack, a.memberKey, { teamId: a.teamId })).toEqual(
        expect.arrayContaining(team),
      );

      const role = await listMemories(stack, a.memberKey, { documentId: 'role-guide' });
      expect(role).toHaveLength(1);
      expect(role[0]!.scope).toEqual({ level: 'ROLE', id: a.roleId });
      expect((await listMemories(stack, a.memberKey, { roleId: a.roleId })).map((m) => m.id)).toContain(
        role[0]!.id,
      );
    });

    it('replaces a changed document: old version closed, new version current, history kept', async () => {
      const [v1] = await listMemories(stack, a.memberKey, { documentId: 'refund-policy' });
      const job = await ingestDocuments(stack, a.adminKey, [
        { documentId: 'refund-policy', content: policyV2 },
      ]);
      expect(job.total).toBe(1);
      await expectJobDone(stack, a.adminKey, job.jobId);

      const current = await listMemories(stack, a.memberKey, { documentId: 'refund-policy' });
      expect(current).toHaveLength(1);
      const v2 = current[0]!;
      expect(v2).toMatchObject({ content: policyV2, provenance: { documentVersion: 2, chunkIndex: 0 } });

      const old = expectData(await memoryById(a.memberKey, v1!.id)).memory;
      expect(old.content).toBe(policyV1);
      expect(old.supersededBy).toBe(v2.id);
      pastTimestamp(old.validTo);

      const withClosed = await listMemories(stack, a.memberKey, {
        documentId: 'refund-policy',
        includeClosed: true,
      });
      expect(withClosed.map((memory) => [memory.provenance.documentVersion, memory.content]).sort()).toEqual([
        [1, policyV1],
        [2, policyV2],
      ]);
      const latest = expectData(await memoryById(a.memberKey, v2.id)).memory;
      expect(latest.history.map((memory: Memory) => memory.id)).toEqual([v1!.id]);
    });

    it('does nothing when the same document content is ingested again', async () => {
      const before = await snapshotMemoryData(stack, a.adminKey);
      const job = await ingestDocuments(stack, a.adminKey, [
        // Whitespace differences are not changes.
        { documentId: 'refund-policy', content: `  ${policyV2.replace(' ', '   ')}\n` },
      ]);
      expect(job).toMatchObject({ status: 'DONE', total: 0, processed: 0 });
      expect(job.message).toMatch(/1 of 1 documents were unchanged/);
      const after = await snapshotMemoryData(stack, a.adminKey);
      expect(after.memories).toEqual(before.memories);
      expect(after.jobs.slice(1)).toEqual(before.jobs);
      expect(after.jobs[0]!.jobId).toBe(job.jobId);
    });
  });

  describe('createMemory', () => {
    it('with infer false stores the content verbatim, category as given or FACT, no mentions', async () => {
      const given = await createMemory(stack, a.memberKey, {
        content: 'ok thanks!',
        actorId: a.actorId,
        infer: false,
        category: 'EPISODE',
      });
      expect(given).toMatchObject({
        content: 'ok thanks!',
        category: 'EPISODE',
        scope: { level: 'ACTOR', id: a.actorId },
        mentions: [],
        metadata: expect.objectContaining({ infer: false }),
        provenance: { eventIds: [], documentId: null },
      });
      const plain = await createMemory(stack, a.memberKey, {
        content: 'I prefer Postgres over MySQL for Acme Corp projects.',
        infer: false,
      });
      expect(plain).toMatchObject({ category: 'FACT', mentions: [], scope: { level: 'ORG', id: a.orgId } });
      expect(expectData(await memoryById(a.memberKey, plain.id)).memory.content).toBe(
        'I prefer Postgres over MySQL for Acme Corp projects.',
      );
    });

    it('with infer true categorises the content and extracts its mentions', async () => {
      const inferred = await createMemory(stack, a.memberKey, {
        content: 'Bob Smith prefers tea over coffee at Initech.',
        teamId: a.teamId,
      });
      expect(inferred).toMatchObject({
        category: 'PREFERENCE',
        scope: { level: 'TEAM', id: a.teamId },
        metadata: expect.objectContaining({ infer: true }),
      });
      expect(inferred.mentions).toContainEqual({ name: 'Bob Smith', type: 'PERSON' });
    });

    it('writes at the most specific scope given: actor, else team, else role, else org', async () => {
      const org = await createMemory(stack, a.memberKey, {
        content: 'Office hours are 9 to 5.',
        infer: false,
      });
      const role = await createMemory(stack, a.memberKey, {
        content: 'Backend on-call rotates weekly.',
        roleId: a.roleId,
        infer: false,
      });
      const team = await createMemory(stack, a.memberKey, {
        content: 'Platform deploys on Tuesdays.',
        roleId: a.roleId,
        teamId: a.teamId,
        infer: false,
      });
      const actor = await createMemory(stack, a.memberKey, {
        content: 'Prefers short answers.',
        roleId: a.roleId,
        teamId: a.teamId,
        actorId: a.actorId,
        infer: false,
      });
      expect([org, role, team, actor].map((memory) => memory.scope)).toEqual([
        { level: 'ORG', id: a.orgId },
        { level: 'ROLE', id: a.roleId },
        { level: 'TEAM', id: a.teamId },
        { level: 'ACTOR', id: a.actorId },
      ]);
    });

    it('with a documentId is versioned like a document', async () => {
      const v1 = await createMemory(stack, a.adminKey, {
        content: 'The VPN must be used for all production access.',
        documentId: 'vpn-policy',
      });
      expect(v1).toMatchObject({
        scope: { level: 'ORG', id: a.orgId },
        provenance: { documentId: 'vpn-policy', documentVersion: 1, chunkIndex: 0 },
      });
      const v2 = await createMemory(stack, a.adminKey, {
        content: 'The VPN is required for production and staging access.',
        documentId: 'vpn-policy',
      });
      expect(v2.provenance).toMatchObject({ documentId: 'vpn-policy', documentVersion: 2 });
      const old = expectData(await memoryById(a.memberKey, v1.id)).memory;
      expect(old.supersededBy).toBe(v2.id);
      pastTimestamp(old.validTo);

      const before = await listMemories(stack, a.memberKey, { includeClosed: true });
      const again = await createMemory(stack, a.adminKey, {
        content: 'The VPN is required for production and staging access.',
        documentId: 'vpn-policy',
      });
      expect(again.id).toBe(v2.id);
      expect(await listMemories(stack, a.memberKey, { includeClosed: true })).toEqual(before);
      expect((await listMemories(stack, a.memberKey, { documentId: 'vpn-policy' })).map((m) => m.id)).toEqual(
        [v2.id],
      );
    });

    it('refuses an expiresAt in the past and hides a memory once its expiresAt passes', async () => {
      const before = await snapshotMemoryData(stack, a.adminKey);
      expectError(
        await stack.gql(
          CREATE_MEMORY,
          { input: { content: 'Already gone.', expiresAt: new Date(Date.now() - 60_000).toISOString() } },
          a.memberKey,
        ),
        'BAD_USER_INPUT',
      );
      expect(await snapshotMemoryData(stack, a.adminKey)).toEqual(before);

      // Long enough to read it back first on a loaded machine, short enough to wait for.
      const expiresAt = new Date(Date.now() + 2500);
      const soon = await createMemory(stack, a.memberKey, {
        content: 'The door code is 4711 this week.',
        actorId: a.actorId,
        infer: false,
        expiresAt: expiresAt.toISOString(),
      });
      expect(soon.expiresAt).toBe(expiresAt.toISOString());
      expect(expectData(await memoryById(a.memberKey, soon.id)).memory.id).toBe(soon.id);
      expect((await listMemories(stack, a.memberKey, { actorId: a.actorId })).map((m) => m.id)).toContain(
        soon.id,
      );

      await sleep(Math.max(0, expiresAt.getTime() - Date.now()) + 200);
      expectError(await memoryById(a.memberKey, soon.id), 'NOT_FOUND');
      for (const filter of [{ actorId: a.actorId }, { includeClosed: true }]) {
        expect((await listMemories(stack, a.memberKey, filter)).map((m) => m.id)).not.toContain(soon.id);
      }
    });
  });

  describe('forgetting', () => {
    it('deleteMemory removes one memory; it is NOT_FOUND afterwards', async () => {
      const memory = await createMemory(stack, a.memberKey, { content: 'Delete me later.', infer: false });
      expect(
        expectData(
          await stack.gql(`mutation($id: ID!) { deleteMemory(id: $id) }`, { id: memory.id }, a.memberKey),
        ),
      ).toEqual({ deleteMemory: true });
      expectError(await memoryById(a.memberKey, memory.id), 'NOT_FOUND');
      expectError(
        await stack.gql(`mutation($id: ID!) { deleteMemory(id: $id) }`, { id: memory.id }, a.memberKey),
        'NOT_FOUND',
      );
      expect(
        (await listMemories(stack, a.memberKey, { includeClosed: true })).map((m) => m.id),
      ).not.toContain(memory.id);
    });

    it('forgetActor removes all of one actor and reports the counts; other actors are untouched', async () => {
      await upsertActor(stack, a.adminKey, { actorId: 'forget-me', roleId: a.roleId, teamId: a.teamId });
      await upsertActor(stack, a.adminKey, { actorId: 'keep-me' });
      const forgetEvents = [
        { eventId: 'f-1', actorId: 'forget-me', content: 'I live in Berlin and work for Globex.' },
        { eventId: 'f-2', actorId: 'forget-me', content: 'My manager is Carol Danvers.' },
        { eventId: 'f-3', actorId: 'forget-me', content: 'thanks!' }, // small talk: an event, no memory
        { eventId: 'f-4', actorId: 'forget-me', content: 'My laptop budget is 2000 dollars.' },
        { eventId: 'k-1', actorId: 'keep-me', content: 'I live in Berlin and work for Globex.' },
      ];
      await expectJobDone(stack, a.memberKey, (await ingestEvents(stack, a.memberKey, forgetEvents)).jobId);
      const contra = await ingestEvents(stack, a.memberKey, [
        { eventId: 'f-5', actorId: 'forget-me', content: 'My laptop budget is 2500 dollars.' },
      ]);
      await expectJobDone(stack, a.memberKey, contra.jobId);
      await createMemory(stack, a.memberKey, { content: 'Likes Rust.', actorId: 'forget-me', infer: false });

      const doomed = await listMemories(stack, a.memberKey, { actorId: 'forget-me', includeClosed: true });
      expect(doomed.some((memory) => memory.validTo !== null)).toBe(true); // closed ones count too
      const kept = await listMemories(stack, a.memberKey, { actorId: 'keep-me', includeClosed: true });
      expect(kept).toHaveLength(1);
      const otherBefore = await listMemories(stack, a.memberKey, { includeClosed: true });

      const forget = `mutation($actorId: ID!) { forgetActor(actorId: $actorId) { actorId events memories vectors entityLinks } }`;
      expectError(await stack.gql(forget, { actorId: 'forget-me' }, a.memberKey), 'FORBIDDEN');
      expect(await listMemories(stack, a.memberKey, { actorId: 'forget-me', includeClosed: true })).toEqual(
        doomed,
      );

      const result = expectData(await stack.gql(forget, { actorId: 'forget-me' }, a.adminKey)).forgetActor;
      expect(result).toEqual({
        actorId: 'forget-me',
        events: 5,
        memories: doomed.length,
        vectors: doomed.filter((memory) => memory.embeddingModel !== null).length,
        entityLinks: doomed.reduce((sum, memory) => sum + memory.mentions.length, 0),
      });
      expect(result.entityLinks).toBeGreaterThan(0);

      expect(await listMemories(stack, a.memberKey, { actorId: 'forget-me', includeClosed: true })).toEqual(
        [],
      );
      for (const memory of doomed) expectError(await memoryById(a.memberKey, memory.id), 'NOT_FOUND');
      expect(await listMemories(stack, a.memberKey, { actorId: 'keep-me', includeClosed: true })).toEqual(
        kept,
      );
      const doomedIds = new Set(doomed.map((memory) => memory.id));
      expect(await listMemories(stack, a.memberKey, { includeClosed: true })).toEqual(
        otherBefore.filter((memory) => !doomedIds.has(memory.id)),
      );
      // A second time there is nothing left.
      expect(expectData(await stack.gql(forget, { actorId: 'forget-me' }, a.adminKey)).forgetActor).toEqual({
        actorId: 'forget-me',
        events: 0,
        memories: 0,
        vectors: 0,
        entityLinks: 0,
      });
      // The events are gone too: re-sending one is new work, not a duplicate.
      const resent = await ingestEvents(stack, a.memberKey, [forgetEvents[0]!]);
      expect(resent.total).toBe(1);
      await expectJobDone(stack, a.memberKey, resent.jobId);
    });
  });

  describe('bad input is refused whole, with nothing stored', () => {
    const tooLong = 'x'.repeat(MEMORY_LIMITS.eventChars + 1);
    const ev = (content: string, extra: Record<string, unknown> = {}) =>
      event({ actorId: 'user-of-mem-a', content, ...extra });
    const doc = (documentId: string, content = 'A perfectly fine document sentence.') => ({
      documentId,
      content,
    });
    type Case = [string, string, Record<string, unknown>, string];
    const cases: Case[] = [
      ['empty event content', INGEST_EVENTS, { events: [ev('')] }, 'BAD_USER_INPUT'],
      ['whitespace event content', INGEST_EVENTS, { events: [ev(' \n\t  ')] }, 'BAD_USER_INPUT'],
      ['event content over the limit', INGEST_EVENTS, { events: [ev(tooLong)] }, 'PAYLOAD_TOO_LARGE'],
      [
        'more events than the batch limit',
        INGEST_EVENTS,
        {
          events: Array.from({ length: MEMORY_LIMITS.eventsPerBatch + 1 }, (_, i) =>
            ev(`Batch event number ${i} about Acme.`, { eventId: `too-many-${i}` }),
          ),
        },
        'PAYLOAD_TOO_LARGE',
      ],
      ['an empty event batch', INGEST_EVENTS, { events: [] }, 'BAD_USER_INPUT'],
      [
        'an unknown actor',
        INGEST_EVENTS,
        { events: [ev('Hello from nobody at Acme.', { actorId: 'nobody' })] },
        'NOT_FOUND',
      ],
      [
        'an unknown role',
        INGEST_EVENTS,
        { events: [ev('Role is wrong here.', { roleId: 'role_nope' })] },
        'NOT_FOUND',
      ],
      [
        'an unknown team',
        INGEST_EVENTS,
        { events: [ev('Team is wrong here.', { teamId: 'team_nope' })] },
        'NOT_FOUND',
      ],
      [
        'one empty event among good ones',
        INGEST_EVENTS,
        {
          events: [
            ev('Good one about Acme.', { eventId: 'mixed-1' }),
            ev('   '),
            ev('Good two about Acme.', { eventId: 'mixed-2' }),
          ],
        },
        'BAD_USER_INPUT',
      ],
      [
        'one unknown actor among good ones',
        INGEST_EVENTS,
        {
          events: [
            ev('Good one about Acme.', { eventId: 'mixed-1' }),
            ev('Who?', { actorId: 'ghost' }),
            ev('Good two about Acme.', { eventId: 'mixed-2' }),
          ],
        },
        'NOT_FOUND',
      ],
      [
        'naming another org (events)',
        INGEST_EVENTS,
        { orgId: 'mem-b', events: [ev('Into B.')] },
        'FORBIDDEN',
      ],
      ['empty document content', INGEST_DOCUMENTS, { documents: [doc('bad-doc', '')] }, 'BAD_USER_INPUT'],
      [
        'document content over the limit',
        INGEST_DOCUMENTS,
        { documents: [doc('bad-doc', 'y'.repeat(MEMORY_LIMITS.documentChars + 1))] },
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'more documents than the batch limit',
        INGEST_DOCUMENTS,
        {
          documents: Array.from({ length: MEMORY_LIMITS.documentsPerBatch + 1 }, (_, i) => doc(`many-${i}`)),
        },
        'PAYLOAD_TOO_LARGE',
      ],
      ['an empty document batch', INGEST_DOCUMENTS, { documents: [] }, 'BAD_USER_INPUT'],
      [
        'one empty document among good ones',
        INGEST_DOCUMENTS,
        { documents: [doc('mixed-doc-1'), doc('mixed-doc-2', ' '), doc('mixed-doc-3')] },
        'BAD_USER_INPUT',
      ],
      [
        'an unknown team scope',
        INGEST_DOCUMENTS,
        { documents: [doc('mixed-doc-1')], scope: { level: 'TEAM', teamId: 'team_nope' } },
        'NOT_FOUND',
      ],
      [
        'an unknown role scope',
        INGEST_DOCUMENTS,
        { documents: [doc('mixed-doc-1')], scope: { level: 'ROLE', roleId: 'role_nope' } },
        'NOT_FOUND',
      ],
      [
        'naming another org (documents)',
        INGEST_DOCUMENTS,
        { orgId: 'mem-b', documents: [doc('b-doc')] },
        'FORBIDDEN',
      ],
      ['empty memory content', CREATE_MEMORY, { input: { content: '' } }, 'BAD_USER_INPUT'],
      ['whitespace memory content', CREATE_MEMORY, { input: { content: '\n \t' } }, 'BAD_USER_INPUT'],
      [
        'memory content over the limit',
        CREATE_MEMORY,
        { input: { content: 'z'.repeat(MEMORY_LIMITS.memoryChars + 1) } },
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'a memory of an unknown actor',
        CREATE_MEMORY,
        { input: { content: 'Hi.', actorId: 'nobody' } },
        'NOT_FOUND',
      ],
      [
        'a memory of an unknown role',
        CREATE_MEMORY,
        { input: { content: 'Hi.', roleId: 'role_nope' } },
        'NOT_FOUND',
      ],
      [
        'a memory of an unknown team',
        CREATE_MEMORY,
        { input: { content: 'Hi.', teamId: 'team_nope' } },
        'NOT_FOUND',
      ],
      [
        'a memory in another org',
        CREATE_MEMORY,
        { input: { orgId: 'mem-b', content: 'Into B.' } },
        'FORBIDDEN',
      ],
    ];

    let before: Awaited<ReturnType<typeof snapshotMemoryData>>;
    let beforeB: Awaited<ReturnType<typeof snapshotMemoryData>>;
    beforeAll(async () => {
      before = await snapshotMemoryData(stack, a.adminKey);
      beforeB = await snapshotMemoryData(stack, b.adminKey);
    });

    it.each(cases)('%s', async (_label, query, variables, code) => {
      const error = expectError(await stack.gql(query, variables, a.memberKey), code);
      expect(error.message.length).toBeGreaterThan(0);
      expect(await snapshotMemoryData(stack, a.adminKey)).toEqual(before);
      expect(await snapshotMemoryData(stack, b.adminKey)).toEqual(beforeB);
    });

    it('stored no part of a refused batch: its good events and documents are new work afterwards', async () => {
      const events = await ingestEvents(stack, a.memberKey, [
        { eventId: 'mixed-1', actorId: a.actorId, content: 'Good one about Acme.' },
        { eventId: 'mixed-2', actorId: a.actorId, content: 'Good two about Acme.' },
      ]);
      expect(events.total).toBe(2);
      const documents = await ingestDocuments(stack, a.adminKey, [doc('mixed-doc-1'), doc('mixed-doc-3')]);
      expect(documents.total).toBe(2);
      await expectJobDone(stack, a.memberKey, events.jobId);
      await expectJobDone(stack, a.memberKey, documents.jobId);
      for (const documentId of ['mixed-doc-1', 'mixed-doc-3']) {
        const [memory] = await listMemories(stack, a.memberKey, { documentId });
        expect(memory!.provenance.documentVersion).toBe(1);
      }
    });
  });

  describe('pagination', () => {
    it('pages memories oldest first with first/after and pageInfo', async () => {
      const created: string[] = [];
      for (let i = 0; i < 5; i++) {
        created.push(
          (await createMemory(stack, b.memberKey, { content: `Paged memory ${i}.`, infer: false })).id,
        );
      }
      const seen: string[] = [];
      const pages: boolean[] = [];
      let after: string | null = null;
      for (let page = 0; page < 5; page++) {
        const data: { memories: Page<Memory> } = expectData(
          await stack.gql<{ memories: Page<Memory> }>(
            MEMORIES_QUERY,
            { level: 'ORG', first: 2, after },
            b.memberKey,
          ),
        );
        const { nodes, edges, pageInfo } = data.memories;
        expect(nodes.map((n) => n.id)).toEqual(edges.map((e) => e.node.id));
        expect(pageInfo.endCursor).toBe(edges.at(-1)?.cursor ?? null);
        seen.push(...nodes.map((n) => n.id));
        pages.push(pageInfo.hasNextPage);
        if (!pageInfo.hasNextPage) break;
        after = pageInfo.endCursor;
      }
      expect(seen).toEqual(created);
      expect(pages).toEqual([true, true, false]);
      expectError(await stack.gql(MEMORIES_QUERY, { first: 0 }, b.memberKey), 'BAD_USER_INPUT');
      expectError(await stack.gql(MEMORIES_QUERY, { after: 'not-a-cursor' }, b.memberKey), 'BAD_USER_INPUT');
    });

    it('pages jobs newest first with first/after and pageInfo, filtered by status', async () => {
      const before = (await listJobs(stack, b.memberKey)).map((job) => job.jobId);
      const made: string[] = [];
      for (let i = 0; i < 3; i++) {
        const job = await ingestDocuments(stack, b.adminKey, [
          { documentId: `paged-doc-${i}`, content: `Paged document number ${i} for Initech.` },
        ]);
        made.push(job.jobId);
        await sleep(5);
      }
      const expected = [...made.reverse(), ...before];
      const seen: string[] = [];
      let after: string | null = null;
      let hasNext = true;
      while (hasNext) {
        const data: { jobs: Page<Job> } = expectData(
          await stack.gql<{ jobs: Page<Job> }>(JOBS_QUERY, { first: 2, after }, b.memberKey),
        );
        expect(data.jobs.nodes.length).toBeLessThanOrEqual(2);
        expect(data.jobs.pageInfo.endCursor).toBe(data.jobs.edges.at(-1)?.cursor ?? null);
        seen.push(...data.jobs.nodes.map((job) => job.jobId));
        ({ hasNextPage: hasNext, endCursor: after } = data.jobs.pageInfo);
      }
      expect(seen).toEqual(expected);

      for (const jobId of made) await expectJobDone(stack, b.memberKey, jobId);
      const done = expectData(await stack.gql(JOBS_QUERY, { status: 'DONE', first: 500 }, b.memberKey));
      expect(done.jobs.nodes.every((job: { status: string }) => job.status === 'DONE')).toBe(true);
      expect(done.jobs.nodes.map((job: { jobId: string }) => job.jobId)).toEqual(
        expect.arrayContaining(made),
      );
      const queued = expectData(await stack.gql(JOBS_QUERY, { status: 'QUEUED' }, b.memberKey));
      expect(queued.jobs.nodes).toEqual([]);
    });
  });
});
