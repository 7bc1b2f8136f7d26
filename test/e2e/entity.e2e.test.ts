import { ingestDocuments, ingestEvents, waitForJob } from '../support/memory-fixtures';
import { createOrgWithKeys, startTestStack, type TestStack } from '../support/stack';

/**
 * Issue 4's "done when": an org document registers Product X at ORG scope; an actor's later
 * question about it links to that same entity instead of a private duplicate, and one
 * federated query (memory → entity) shows both memories on the one entity.
 */
describe('entity resolution along the scope chain, through the gateway', () => {
  let stack: TestStack;
  let adminKey: string;

  beforeAll(async () => {
    stack = await startTestStack();
    ({ adminKey } = await createOrgWithKeys(stack, 'entity-org'));
    await stack.gql(`mutation { upsertActor(input: { actorId: "user_42" }) { actorId } }`, {}, adminKey);
  });
  afterAll(() => stack?.close());

  it('links an actor question to the ORG entity registered from a product document', async () => {
    const doc = await ingestDocuments(stack, adminKey, [
      {
        documentId: 'doc_product_x',
        content: 'Product X supports integrations with Slack and Microsoft Teams.',
      },
    ]);
    expect((await waitForJob(stack, adminKey, doc.jobId)).status).toBe('DONE');
    const question = await ingestEvents(stack, adminKey, [
      { eventId: 'q1', actorId: 'user_42', content: 'Does Product X work with Slack?' },
    ]);
    expect((await waitForJob(stack, adminKey, question.jobId)).status).toBe('DONE');

    const found = await stack.gql(
      `{ entities(search: "product x") { nodes { id name type scope { level id }
           memories { id content scope { level id } provenance { eventIds documentId } } } } }`,
      {},
      adminKey,
    );
    expect(found.errors).toBeUndefined();
    const productX = found.data!.entities.nodes.filter(
      (entity: { name: string }) => entity.name.toLowerCase() === 'product x',
    );
    expect(productX).toHaveLength(1); // no private duplicate for the actor
    expect(productX[0].scope).toEqual({ level: 'ORG', id: 'entity-org' });
    const memories = productX[0].memories as Array<{
      scope: { level: string };
      provenance: { eventIds: string[]; documentId: string | null };
    }>;
    expect(memories.map((memory) => memory.scope.level).sort()).toEqual(['ACTOR', 'ORG']);
    expect(memories.find((memory) => memory.scope.level === 'ACTOR')!.provenance.eventIds).toEqual(['q1']);
    expect(memories.find((memory) => memory.scope.level === 'ORG')!.provenance.documentId).toBe(
      'doc_product_x',
    );

    // One federated query the other way round: the actor's memories with their entities.
    const actor = await stack.gql(
      `{ actor(actorId: "user_42") { actorId memories { nodes { content entities { id name scope { level } } } } } }`,
      {},
      adminKey,
    );
    expect(actor.errors).toBeUndefined();
    const [memory] = actor.data!.actor.memories.nodes;
    const names = (memory.entities as Array<{ id: string; name: string; scope: { level: string } }>).map(
      (e) => [e.name, e.scope.level],
    );
    expect(names).toEqual(
      expect.arrayContaining([
        ['Product X', 'ORG'],
        ['Slack', 'ORG'],
      ]),
    );
    expect(memory.entities.find((e: { name: string }) => e.name === 'Product X').id).toBe(productX[0].id);
  });

  it('relates co-mentioned entities and walks the graph', async () => {
    const found = await stack.gql(`{ entities(search: "product x") { nodes { id } } }`, {}, adminKey);
    const productX = found.data!.entities.nodes[0].id as string;
    const teams = (await stack.gql(`{ entities(search: "microsoft teams") { nodes { id } } }`, {}, adminKey))
      .data!.entities.nodes[0].id as string;
    const graph = await stack.gql(
      `query($id: ID!) { neighbours(entityId: $id, depth: 1) { entities { name } relationships { type fromId toId } } }`,
      { id: productX },
      adminKey,
    );
    expect(graph.errors).toBeUndefined();
    expect(graph.data!.neighbours.entities.map((e: { name: string }) => e.name)).toEqual(
      expect.arrayContaining(['Slack', 'Microsoft Teams']),
    );
    expect(
      graph.data!.neighbours.relationships.every((r: { type: string }) => r.type === 'MENTIONED_WITH'),
    ).toBe(true);
    const path = await stack.gql(
      `query($a: ID!, $b: ID!) { path(fromId: $a, toId: $b) { entities { id } } }`,
      { a: productX, b: teams },
      adminKey,
    );
    expect(path.errors).toBeUndefined();
    expect(path.data!.path.entities.map((e: { id: string }) => e.id)).toEqual(
      expect.arrayContaining([productX, teams]),
    );
  });

  it('re-ingesting the document re-links its entities: the old version is unlinked', async () => {
    const job = await ingestDocuments(stack, adminKey, [
      { documentId: 'doc_product_x', content: 'Product X now integrates with Zoom only.' },
    ]);
    expect((await waitForJob(stack, adminKey, job.jobId)).status).toBe('DONE');
    const slack = await stack.gql(
      `{ entities(search: "slack") { nodes { name memories { provenance { documentId documentVersion eventIds } } } } }`,
      {},
      adminKey,
    );
    const slackMemories = slack.data!.entities.nodes[0].memories as Array<{
      provenance: { documentId: string | null };
    }>;
    // Only the actor's question still mentions Slack; the replaced document chunk no longer does.
    expect(slackMemories.map((memory) => memory.provenance.documentId)).toEqual([null]);
    const zoom = await stack.gql(
      `{ entities(search: "zoom") { nodes { name memories { provenance { documentVersion } } } } }`,
      {},
      adminKey,
    );
    expect(zoom.data!.entities.nodes[0].memories).toEqual([{ provenance: { documentVersion: 2 } }]);
  });

  it('forgetActor removes the actor memories from the graph, deleteOrg removes the graph', async () => {
    const forgot = await stack.gql(
      `mutation { forgetActor(actorId: "user_42") { memories entityLinks } }`,
      {},
      adminKey,
    );
    expect(forgot.errors).toBeUndefined();
    expect(forgot.data!.forgetActor.entityLinks).toBeGreaterThan(0);
    const productX = await stack.gql(
      `{ entities(search: "product x") { nodes { memories { id } } } }`,
      {},
      adminKey,
    );
    expect(productX.data!.entities.nodes[0].memories).toHaveLength(1); // the document's v2 chunk

    const deleted = await stack.gql(`mutation { deleteOrg(orgId: "entity-org") }`, {}, stack.adminKey);
    expect(deleted.errors).toBeUndefined();
    // Recreate the org id: nothing of the old graph or memories comes back.
    await createOrgWithKeys(stack, 'entity-org');
    const after = await stack.gql(
      `{ entities(orgId: "entity-org") { nodes { id } } memories(orgId: "entity-org") { nodes { id } } }`,
      {},
      stack.adminKey,
    );
    expect(after.errors).toBeUndefined();
    expect(after.data!.entities.nodes).toEqual([]);
    expect(after.data!.memories.nodes).toEqual([]);
  });
});

describe('deleting a role or team purges its scope everywhere', () => {
  let stack: TestStack;
  let adminKey: string;

  beforeAll(async () => {
    stack = await startTestStack();
    ({ adminKey } = await createOrgWithKeys(stack, 'scope-org'));
  });
  afterAll(() => stack?.close());

  it('removes the team documents, memories and entities, and leaves the org context', async () => {
    const created = await stack.gql(
      `mutation { createTeam(input: { name: "Acme Account" }) { teamId } }`,
      {},
      adminKey,
    );
    const teamId = created.data!.createTeam.teamId as string;
    const teamDoc = await ingestDocuments(
      stack,
      adminKey,
      [
        {
          documentId: 'doc_acme_terms',
          content: 'Acme Corp negotiated 45-day returns with Globex Logistics.',
        },
      ],
      { scope: { level: 'TEAM', teamId } },
    );
    const orgDoc = await ingestDocuments(stack, adminKey, [
      { documentId: 'doc_refunds', content: 'The standard refund policy allows returns within 30 days.' },
    ]);
    for (const job of [teamDoc, orgDoc])
      expect((await waitForJob(stack, adminKey, job.jobId)).status).toBe('DONE');
    const teamScope = { level: 'TEAM', id: teamId };
    const before = await stack.gql(
      `query($t: ID!, $s: ScopeInput!) { memories(teamId: $t) { nodes { id } } entities(scope: $s) { nodes { name } } }`,
      { t: teamId, s: teamScope },
      adminKey,
    );
    expect(before.data!.memories.nodes).toHaveLength(1);
    expect(before.data!.entities.nodes.length).toBeGreaterThan(0);

    const deleted = await stack.gql(`mutation($t: ID!) { deleteTeam(teamId: $t) }`, { t: teamId }, adminKey);
    expect(deleted.errors).toBeUndefined();

    const after = await stack.gql(
      `query($t: ID!, $s: ScopeInput!) {
        team: memories(teamId: $t, includeClosed: true) { nodes { id } }
        entities(scope: $s) { nodes { name } }
        org: memories(level: ORG) { nodes { provenance { documentId } } }
      }`,
      { t: teamId, s: teamScope },
      adminKey,
    );
    expect(after.errors).toBeUndefined();
    expect(after.data!.team.nodes).toEqual([]);
    expect(after.data!.entities.nodes).toEqual([]);
    expect(after.data!.org.nodes).toEqual([{ provenance: { documentId: 'doc_refunds' } }]);
  });
});
