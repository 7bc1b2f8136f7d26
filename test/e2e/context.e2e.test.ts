import { createMemory, ingestDocuments, waitForJob } from '../support/memory-fixtures';
import { createOrgWithKeys, startTestStack, type TestStack } from '../support/stack';

/**
 * Seed 004's refund example: the user's VIP window, the customer's negotiated window and the
 * standard policy are all returned for "What is the refund policy?", most specific first, the
 * general ones marked as overridden, through one federated query (hierarchy → memory → entity).
 */
describe('the context query: scope-chain merge through the gateway', () => {
  let stack: TestStack;
  let adminKey: string;
  let memberKey: string;
  let ids: { actor: string; team: string; org: string };

  const CONTEXT_FIELDS = `items { score scope { level id } explanation overriddenBy memory { id content entities { name } } } text cached tookMs`;

  beforeAll(async () => {
    stack = await startTestStack();
    ({ adminKey, memberKey } = await createOrgWithKeys(stack, 'refund-org'));
    const team = await stack.gql(
      `mutation { createTeam(input: { name: "Acme Corp account" }) { teamId } }`,
      {},
      adminKey,
    );
    const teamId = team.data!.createTeam.teamId as string;
    await stack.gql(
      `mutation($t: ID) { upsertActor(input: { actorId: "alice", teamId: $t }) { actorId } }`,
      { t: teamId },
      adminKey,
    );
    await stack.gql(`mutation { upsertActor(input: { actorId: "bob" }) { actorId } }`, {}, adminKey);
    const org = await ingestDocuments(stack, adminKey, [
      {
        documentId: 'doc_refund_policy',
        content: 'Standard refund policy: customers can return items within 30 days.',
      },
    ]);
    const acme = await ingestDocuments(
      stack,
      adminKey,
      [
        {
          documentId: 'doc_acme_terms',
          content: 'Acme Corp negotiated a refund policy with returns within 45 days.',
        },
      ],
      { scope: { level: 'TEAM', teamId } },
    );
    for (const job of [org, acme]) expect((await waitForJob(stack, adminKey, job.jobId)).status).toBe('DONE');
    const vip = await createMemory(stack, adminKey, {
      actorId: 'alice',
      content: 'Alice has a VIP refund policy with returns within 60 days.',
      infer: false,
    });
    await createMemory(stack, adminKey, {
      actorId: 'alice',
      content: 'Alice prefers email over phone calls.',
      infer: false,
    });
    const memories = await stack.gql(
      `{ memories(first: 50) { nodes { id scope { level } } } }`,
      {},
      adminKey,
    );
    const byLevel = (level: string) =>
      memories.data!.memories.nodes.find((m: { scope: { level: string } }) => m.scope.level === level).id;
    ids = { actor: vip.id, team: byLevel('TEAM'), org: byLevel('ORG') };
  });
  afterAll(() => stack?.close());

  it('merges actor, team and org memories, most specific first, general ones overridden', async () => {
    const result = await stack.gql(
      `{ actor(actorId: "alice") { actorId context(query: "What is the refund policy?", limit: 3) { ${CONTEXT_FIELDS} } } }`,
      {},
      memberKey,
    );
    expect(result.errors).toBeUndefined();
    const { items, text } = result.data!.actor.context;
    expect(items.map((item: { scope: { level: string } }) => item.scope.level)).toEqual([
      'ACTOR',
      'TEAM',
      'ORG',
    ]);
    expect(items.map((item: { memory: { id: string } }) => item.memory.id)).toEqual([
      ids.actor,
      ids.team,
      ids.org,
    ]);
    expect(items[0].overriddenBy).toBeNull();
    expect(items[1].overriddenBy).toBe(ids.actor);
    expect(items[2].overriddenBy).toBe(ids.actor);
    expect(items[0].explanation).toMatch(/lexical #\d/);
    expect(items[0].explanation).toMatch(/scope ACTOR/);
    expect(items[2].explanation).toMatch(/overridden by/);
    expect(text.split('\n')[0]).toBe('[ACTOR] Alice has a VIP refund policy with returns within 60 days.');
    expect(items.every((item: { score: number }) => item.score > 0 && item.score <= 1)).toBe(true);
  });

  it('Query.context gives the same answer; another actor of the org sees only the org policy', async () => {
    const alice = await stack.gql(
      `{ context(actorId: "alice", query: "What is the refund policy?", limit: 3) { items { memory { id } } } }`,
      {},
      memberKey,
    );
    expect(alice.data!.context.items.map((item: { memory: { id: string } }) => item.memory.id)).toEqual([
      ids.actor,
      ids.team,
      ids.org,
    ]);
    const bob = await stack.gql(
      `{ context(actorId: "bob", query: "What is the refund policy?") { items { scope { level } memory { id } overriddenBy } } }`,
      {},
      memberKey,
    );
    expect(bob.errors).toBeUndefined();
    expect(bob.data!.context.items).toEqual([
      { scope: { level: 'ORG' }, memory: { id: ids.org }, overriddenBy: null },
    ]);
  });

  it('honours scopes, maxTokens and asOf', async () => {
    const orgOnly = await stack.gql(
      `{ context(actorId: "alice", query: "refund policy", scopes: [ORG]) { items { scope { level } } } }`,
      {},
      memberKey,
    );
    expect(orgOnly.data!.context.items.map((item: { scope: { level: string } }) => item.scope.level)).toEqual(
      ['ORG'],
    );
    const packed = await stack.gql(
      `{ context(actorId: "alice", query: "What is the refund policy?", maxTokens: 20) { items { scope { level } } text } }`,
      {},
      memberKey,
    );
    expect(packed.data!.context.items).toHaveLength(1);
    expect(packed.data!.context.text.length / 4).toBeLessThanOrEqual(20);
    const before = await stack.gql(
      `{ context(actorId: "alice", query: "refund policy", asOf: "2000-01-01T00:00:00Z") { items { memory { id } } } }`,
      {},
      memberKey,
    );
    expect(before.data!.context.items).toEqual([]);
  });

  it('rejects bad input and other orgs', async () => {
    const empty = await stack.gql(`{ context(actorId: "alice", query: "  ") { text } }`, {}, memberKey);
    expect(empty.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const unknown = await stack.gql(
      `{ context(actorId: "nobody", query: "refund") { text } }`,
      {},
      memberKey,
    );
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const { memberKey: otherKey } = await createOrgWithKeys(stack, 'other-org');
    const foreign = await stack.gql(
      `{ context(orgId: "refund-org", actorId: "alice", query: "refund") { text } }`,
      {},
      otherKey,
    );
    expect(foreign.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const foreignActor = await stack.gql(
      `{ actor(orgId: "refund-org", actorId: "alice") { context(query: "refund") { text } } }`,
      {},
      otherKey,
    );
    expect(foreignActor.data?.actor ?? null).toBeNull();
    expect(foreignActor.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
