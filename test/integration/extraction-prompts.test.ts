import {
  startFakeOpenAiServer,
  type ChatCompletionBody,
  type FakeOpenAiServer,
} from '../support/fake-openai-server';
import { ingestEvents, waitForJob } from '../support/memory-fixtures';
import { createOrgWithKeys, startTestStack, type TestStack } from '../support/stack';

/**
 * Seed 000: "Events tagged with role_id or team_id are extracted with the customised prompt
 * for that role/team." With an LLM configured, the memory pipeline fetches the promotion
 * prompts from the hierarchy subgraph (service identity) and the extraction request carries
 * the prompts of the event's org, role and team: shown here on the requests the model got.
 */
describe('extraction is biased by the promotion prompts of the event scope', () => {
  let llm: FakeOpenAiServer;
  let stack: TestStack;
  let adminKey: string;
  let roleId: string;
  let teamId: string;

  /** Prompt generation gets a recognisable prompt per subject; extraction gets JSON memories. */
  function reply(body: ChatCompletionBody): string {
    const user = body.messages?.at(-1)?.content ?? '';
    const name = /^Name: (.+)$/m.exec(user)?.[1];
    if (name) return `PROMPT-FOR<${name}>: keep what matters to ${name}.`;
    const text = /Text:\s*"""\s*([\s\S]*?)\s*"""/.exec(user)?.[1] ?? user.slice(-200);
    return JSON.stringify({
      memories: [{ content: `Remembered: ${text.slice(0, 120)}`, category: 'FACT', entities: [] }],
    });
  }

  beforeAll(async () => {
    llm = await startFakeOpenAiServer({ mode: { kind: 'ok', reply } });
    stack = await startTestStack({ LLM_BASE_URL: llm.url, LLM_MODEL: 'fake-model', LLM_MAX_RETRIES: '0' });
    ({ adminKey } = await createOrgWithKeys(stack, 'prompted-org'));
    const created = await stack.gql(
      `mutation {
        role: createRole(input: { name: "Backend Engineer", focus: "Python, Postgres" }) { roleId promotionPrompt }
        team: createTeam(input: { name: "Platform Team", focus: "CI/CD" }) { teamId promotionPrompt }
        a1: upsertActor(input: { actorId: "plain" }) { actorId }
      }`,
      {},
      adminKey,
    );
    expect(created.errors).toBeUndefined();
    roleId = created.data!.role.roleId;
    teamId = created.data!.team.teamId;
    expect(created.data!.role.promotionPrompt).toBe(
      'PROMPT-FOR<Backend Engineer>: keep what matters to Backend Engineer.',
    );
  });

  afterAll(async () => {
    await stack?.close();
    await llm?.close();
  });

  /** The user message of the extraction request whose text contains `marker`. */
  function extractionRequestFor(marker: string): string {
    const found = llm.requests
      .map((request) => (request.body as ChatCompletionBody).messages?.at(-1)?.content ?? '')
      .filter((content) => content.includes(marker) && !content.startsWith('Level:'));
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  it('uses the role prompt for an event tagged with the role, the team prompt for one tagged with the team', async () => {
    const job = await ingestEvents(stack, adminKey, [
      { eventId: 'e-role', actorId: 'plain', content: 'MARKER-ROLE we moved the queue to Postgres.', roleId },
      {
        eventId: 'e-team',
        actorId: 'plain',
        content: 'MARKER-TEAM the deploy pipeline now runs nightly.',
        teamId,
      },
      { eventId: 'e-none', actorId: 'plain', content: 'MARKER-NONE lunch was good today.' },
    ]);
    expect((await waitForJob(stack, adminKey, job.jobId)).status).toBe('DONE');

    const roleRequest = extractionRequestFor('MARKER-ROLE');
    const teamRequest = extractionRequestFor('MARKER-TEAM');
    const plainRequest = extractionRequestFor('MARKER-NONE');
    const orgPrompt = 'PROMPT-FOR<prompted-org Inc>';
    for (const request of [roleRequest, teamRequest, plainRequest]) expect(request).toContain(orgPrompt);
    expect(roleRequest).toContain('PROMPT-FOR<Backend Engineer>');
    expect(roleRequest).not.toContain('PROMPT-FOR<Platform Team>');
    expect(teamRequest).toContain('PROMPT-FOR<Platform Team>');
    expect(teamRequest).not.toContain('PROMPT-FOR<Backend Engineer>');
    expect(plainRequest).not.toContain('PROMPT-FOR<Backend Engineer>');
    expect(plainRequest).not.toContain('PROMPT-FOR<Platform Team>');

    // What the model answered is what was stored, with the extractor recorded.
    const memories = await stack.gql(
      `{ memories(actorId: "plain") { nodes { content metadata provenance { eventIds } } } }`,
      {},
      adminKey,
    );
    const stored = memories.data!.memories.nodes as Array<{
      content: string;
      metadata: Record<string, unknown>;
      provenance: { eventIds: string[] };
    }>;
    const roleMemory = stored.find((memory) => memory.provenance.eventIds.includes('e-role'));
    expect(roleMemory?.content).toContain('Remembered: MARKER-ROLE');
    expect(roleMemory?.metadata.extractor).toBe('llm:fake-model');
  });

  it("falls back to the actor's role and team when the event carries none", async () => {
    await stack.gql(
      `mutation($r: ID, $t: ID) { upsertActor(input: { actorId: "tagged", roleId: $r, teamId: $t }) { actorId } }`,
      { r: roleId, t: teamId },
      adminKey,
    );
    const job = await ingestEvents(stack, adminKey, [
      { eventId: 'e-actor', actorId: 'tagged', content: 'MARKER-ACTOR the API uses GraphQL.' },
    ]);
    expect((await waitForJob(stack, adminKey, job.jobId)).status).toBe('DONE');
    const request = extractionRequestFor('MARKER-ACTOR');
    expect(request).toContain('PROMPT-FOR<Backend Engineer>');
    expect(request).toContain('PROMPT-FOR<Platform Team>');
  });
});
