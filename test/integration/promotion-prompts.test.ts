import {
  startFakeOpenAiServer,
  type ChatCompletionBody,
  type FakeOpenAiMode,
  type FakeOpenAiServer,
} from '../support/fake-openai-server';
import { errorCodes, startTestStack, type GraphQLResponse, type TestStack } from '../support/stack';

/**
 * Promotion prompts end to end through the gateway: the LLM generator against a real HTTP
 * server speaking the OpenAI protocol (success and every failure mode), and the deterministic
 * template when no LLM is configured.
 */

const NODE_FIELDS = 'name focus promotionPrompt promptMeta { generator model templateVersion generatedAt }';
const CREATE_ORG = `mutation($input: CreateOrgInput!) { createOrg(input: $input) { orgId ${NODE_FIELDS} } }`;
const CREATE_ROLE = `mutation($input: CreateLevelInput!) { createRole(input: $input) { roleId orgId ${NODE_FIELDS} } }`;
const UPDATE_ROLE = `mutation($orgId: ID, $roleId: ID!, $input: UpdateHierarchyInput!) {
  updateRole(orgId: $orgId, roleId: $roleId, input: $input) { roleId ${NODE_FIELDS} } }`;
const REGENERATE_ORG = `mutation($orgId: ID) { regenerateOrgPrompt(orgId: $orgId) { orgId ${NODE_FIELDS} } }`;
const ORG = `query($orgId: ID) { org(orgId: $orgId) { orgId ${NODE_FIELDS} roles { roleId ${NODE_FIELDS} } } }`;
const ROLES = `query($orgId: ID) { roles(orgId: $orgId) { roleId ${NODE_FIELDS} } }`;

let counter = 0;
function orgId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

/** Text of every message the fake received in one chat request. */
function promptText(body: unknown): string {
  const messages = (body as ChatCompletionBody).messages ?? [];
  return messages.map((message) => message.content).join('\n');
}

function expectNoStackTrace(response: GraphQLResponse): void {
  const text = JSON.stringify(response.errors);
  expect(text).not.toMatch(/stacktrace|exception/i);
  expect(text).not.toMatch(/\bat .+:\d+:\d+/);
  expect(text).not.toContain('sk-test');
}

describe('promotion prompts from the configured LLM', () => {
  let fake: FakeOpenAiServer;
  let stack: TestStack;

  beforeAll(async () => {
    fake = await startFakeOpenAiServer();
    stack = await startTestStack({
      LLM_BASE_URL: fake.url,
      LLM_MODEL: 'test-model',
      LLM_API_KEY: 'sk-test',
      LLM_TIMEOUT_MS: '300',
      LLM_MAX_RETRIES: '0',
    });
  });
  afterAll(async () => {
    await stack?.close();
    await fake?.close();
  });
  beforeEach(() => {
    fake.setMode({ kind: 'ok' });
    fake.requests.length = 0;
  });

  const admin = () => stack.adminKey;

  async function createOrg(id: string, name: string, focus: string) {
    const res = await stack.gql(CREATE_ORG, { input: { orgId: id, name, focus } }, admin());
    expect(res.errors).toBeUndefined();
    return res.data!.createOrg;
  }

  async function createRole(org: string, name: string, focus: string) {
    const res = await stack.gql(CREATE_ROLE, { input: { orgId: org, name, focus } }, admin());
    expect(res.errors).toBeUndefined();
    return res.data!.createRole;
  }

  it("createOrg stores the model's answer as the prompt, asked with the org's name and focus", async () => {
    fake.setMode({ kind: 'ok', reply: '  Remember the robots, their customers and the SLAs.  ' });
    const id = orgId('llm-org');
    const before = Date.now();
    const org = await createOrg(id, 'Acme Robotics', 'Warehouse robots for grocery retailers');

    expect(org).toMatchObject({
      orgId: id,
      name: 'Acme Robotics',
      focus: 'Warehouse robots for grocery retailers',
      promotionPrompt: 'Remember the robots, their customers and the SLAs.',
      promptMeta: { generator: 'llm', model: 'test-model', templateVersion: 'llm-v1' },
    });
    expect(Date.parse(org.promptMeta.generatedAt)).toBeGreaterThanOrEqual(before - 1000);

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe('/v1/chat/completions');
    expect(request!.headers.authorization).toBe('Bearer sk-test');
    expect((request!.body as ChatCompletionBody).model).toBe('test-model');
    const text = promptText(request!.body);
    expect(text).toContain('Acme Robotics');
    expect(text).toContain('Warehouse robots for grocery retailers');

    // Stored, not just returned.
    const read = await stack.gql(ORG, { orgId: id }, admin());
    expect(read.data!.org.promotionPrompt).toBe('Remember the robots, their customers and the SLAs.');
    expect(read.data!.org.promptMeta).toEqual(org.promptMeta);
  });

  it('records the model the endpoint reports in promptMeta.model', async () => {
    // An endpoint may answer with a more specific model id than the one requested.
    fake.setMode({
      kind: 'status',
      status: 200,
      times: 1,
      body: JSON.stringify({
        id: 'chatcmpl-1',
        object: 'chat.completion',
        model: 'test-model-2026-01-01',
        choices: [{ index: 0, message: { role: 'assistant', content: 'Dated model prompt.' } }],
      }),
    });
    const org = await createOrg(orgId('llm-model'), 'Model Co', 'whatever');
    expect(org.promotionPrompt).toBe('Dated model prompt.');
    expect(org.promptMeta).toMatchObject({ generator: 'llm', model: 'test-model-2026-01-01' });
  });

  it("createRole asks with the role's name and focus and the org's name and focus", async () => {
    const id = orgId('llm-role');
    await createOrg(id, 'Globex Logistics', 'Cross-border freight forwarding in the EU');
    fake.requests.length = 0;
    fake.setMode({
      kind: 'ok',
      reply: (body) => `ROLE PROMPT (${promptText(body).length} chars of context)`,
    });

    const role = await createRole(id, 'Customs Broker', 'Tariff codes and customs declarations');
    expect(role).toMatchObject({
      orgId: id,
      name: 'Customs Broker',
      promotionPrompt: expect.stringMatching(/^ROLE PROMPT \(\d+ chars of context\)$/),
      promptMeta: { generator: 'llm', model: 'test-model' },
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.headers.authorization).toBe('Bearer sk-test');
    const text = promptText(fake.requests[0]!.body);
    expect(text).toContain('Customs Broker');
    expect(text).toContain('Tariff codes and customs declarations');
    expect(text).toContain('Globex Logistics');
    expect(text).toContain('Cross-border freight forwarding in the EU');
  });

  it('updateRole and regenerateOrgPrompt write a new prompt from the current name and focus', async () => {
    const id = orgId('llm-update');
    await createOrg(id, 'Initech', 'Banking software');
    const role = await createRole(id, 'Tester', 'Regression suites');

    fake.requests.length = 0;
    fake.setMode({ kind: 'ok', reply: 'Updated role prompt.' });
    const updated = await stack.gql(
      UPDATE_ROLE,
      { orgId: id, roleId: role.roleId, input: { focus: 'Load testing of the payment core' } },
      admin(),
    );
    expect(updated.errors).toBeUndefined();
    expect(updated.data!.updateRole).toMatchObject({
      name: 'Tester',
      focus: 'Load testing of the payment core',
      promotionPrompt: 'Updated role prompt.',
    });
    expect(promptText(fake.requests[0]!.body)).toContain('Load testing of the payment core');

    fake.setMode({ kind: 'ok', reply: 'Regenerated org prompt.' });
    const regenerated = await stack.gql(REGENERATE_ORG, { orgId: id }, admin());
    expect(regenerated.errors).toBeUndefined();
    expect(regenerated.data!.regenerateOrgPrompt).toMatchObject({
      name: 'Initech',
      promotionPrompt: 'Regenerated org prompt.',
      promptMeta: { generator: 'llm', model: 'test-model' },
    });
    expect(fake.requests).toHaveLength(2);
  });

  const failures: Array<{ name: string; mode: FakeOpenAiMode; code: string; message: RegExp }> = [
    {
      name: 'HTTP 500',
      mode: { kind: 'status', status: 500 },
      code: 'UPSTREAM_ERROR',
      message: /LLM endpoint answered HTTP 500/,
    },
    {
      name: 'HTTP 429',
      mode: { kind: 'status', status: 429 },
      code: 'RATE_LIMITED',
      message: /LLM endpoint rate-limited the request \(HTTP 429\)/,
    },
    {
      name: 'malformed JSON',
      mode: { kind: 'malformed' },
      code: 'UPSTREAM_ERROR',
      message: /LLM endpoint returned malformed JSON/,
    },
    {
      name: 'an answer slower than LLM_TIMEOUT_MS',
      mode: { kind: 'delay', ms: 3_000 },
      code: 'UPSTREAM_ERROR',
      message: /LLM request timed out after 300 ms/,
    },
  ];

  describe.each(failures)('when the LLM fails with $name', ({ mode, code, message }) => {
    let id: string;
    let role: { roleId: string; orgId: string; name: string; focus: string; promotionPrompt: string };
    let org: { promotionPrompt: string; promptMeta: unknown };

    beforeAll(async () => {
      fake.setMode({ kind: 'ok', reply: 'Original org prompt.' });
      id = orgId('llm-fail');
      org = await createOrg(id, 'Umbrella Health', 'Clinical trial logistics');
      fake.setMode({ kind: 'ok', reply: 'Original role prompt.' });
      role = await createRole(id, 'Coordinator', 'Site visits and consent forms');
    });

    function expectFailure(res: GraphQLResponse, field: string): void {
      expect(errorCodes(res)).toEqual([code]);
      expect(res.errors![0]!.message).toMatch(message);
      expect(res.errors![0]!.path).toEqual([field]);
      expect(res.data ?? null).toBeNull();
      expectNoStackTrace(res);
    }

    async function current() {
      const read = await stack.gql(ORG, { orgId: id }, admin());
      expect(read.errors).toBeUndefined();
      return read.data!.org;
    }

    it('createOrg fails and creates no org', async () => {
      fake.setMode(mode);
      const newId = orgId('llm-never');
      const res = await stack.gql(
        CREATE_ORG,
        { input: { orgId: newId, name: 'Never Co', focus: 'n/a' } },
        admin(),
      );
      expectFailure(res, 'createOrg');
      expect(fake.requests.length).toBeGreaterThanOrEqual(1);

      fake.setMode({ kind: 'ok' });
      expect(errorCodes(await stack.gql(ORG, { orgId: newId }, admin()))).toEqual(['NOT_FOUND']);
    });

    it('createRole fails and leaves the roles as they were', async () => {
      fake.setMode(mode);
      const res = await stack.gql(
        CREATE_ROLE,
        { input: { orgId: id, name: 'Auditor', focus: 'GCP audits' } },
        admin(),
      );
      expectFailure(res, 'createRole');

      fake.setMode({ kind: 'ok' });
      const roles = await stack.gql(ROLES, { orgId: id }, admin());
      expect(roles.data!.roles).toEqual([
        expect.objectContaining({
          roleId: role.roleId,
          name: 'Coordinator',
          promotionPrompt: 'Original role prompt.',
        }),
      ]);
    });

    it('updateRole fails and keeps the old name, focus and prompt', async () => {
      fake.setMode(mode);
      const res = await stack.gql(
        UPDATE_ROLE,
        { orgId: id, roleId: role.roleId, input: { name: 'Lead Coordinator', focus: 'Everything' } },
        admin(),
      );
      expectFailure(res, 'updateRole');

      fake.setMode({ kind: 'ok' });
      const { orgId: _orgId, ...unchanged } = role;
      expect((await current()).roles).toEqual([unchanged]);
    });

    it('regenerateOrgPrompt fails and keeps the old prompt', async () => {
      fake.setMode(mode);
      const res = await stack.gql(REGENERATE_ORG, { orgId: id }, admin());
      expectFailure(res, 'regenerateOrgPrompt');

      fake.setMode({ kind: 'ok' });
      const stored = await current();
      expect(stored.promotionPrompt).toBe('Original org prompt.');
      expect(stored.promptMeta).toEqual(org.promptMeta);
    });
  });

  it('works again once the LLM recovers', async () => {
    fake.setMode({ kind: 'status', status: 503, times: 1 });
    const failed = await stack.gql(
      CREATE_ORG,
      { input: { orgId: orgId('llm-recover'), name: 'Flaky', focus: '' } },
      admin(),
    );
    expect(errorCodes(failed)).toEqual(['UPSTREAM_ERROR']);
    const org = await createOrg(orgId('llm-recover'), 'Steady', '');
    expect(org.promptMeta.generator).toBe('llm');
    expect(org.promotionPrompt).toMatch(/^echo: /);
  });
});

describe('promotion prompts without an LLM', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.close());

  it('are deterministic templates: the same subject gives the same prompt', async () => {
    const input = { name: 'Acme Robotics', focus: 'Warehouse robots for grocery retailers' };
    const first = await stack.gql(CREATE_ORG, { input: { orgId: orgId('tpl-a'), ...input } }, stack.adminKey);
    const second = await stack.gql(
      CREATE_ORG,
      { input: { orgId: orgId('tpl-b'), ...input } },
      stack.adminKey,
    );
    expect(first.errors).toBeUndefined();
    expect(second.errors).toBeUndefined();
    const a = first.data!.createOrg;
    const b = second.data!.createOrg;

    expect(a.promptMeta).toMatchObject({
      generator: 'template',
      model: null,
      templateVersion: 'template-v1',
    });
    expect(b.promptMeta).toMatchObject({ generator: 'template', model: null });
    expect(a.promotionPrompt).toBe(b.promotionPrompt);
    expect(a.promotionPrompt).toContain('Acme Robotics');
    expect(a.promotionPrompt).toContain('Warehouse robots for grocery retailers');

    const roles = [];
    for (const org of [a, b]) {
      const res = await stack.gql(
        CREATE_ROLE,
        { input: { orgId: org.orgId, name: 'Field Engineer', focus: 'On-site robot repairs' } },
        stack.adminKey,
      );
      expect(res.errors).toBeUndefined();
      roles.push(res.data!.createRole);
    }
    expect(roles[0].promotionPrompt).toBe(roles[1].promotionPrompt);
    expect(roles[0].promotionPrompt).toContain('On-site robot repairs');
    expect(roles[0].promotionPrompt).toContain('Warehouse robots for grocery retailers');
    expect(roles[0].promptMeta).toMatchObject({ generator: 'template', model: null });

    // A different subject gives a different prompt.
    const other = await stack.gql(
      CREATE_ORG,
      { input: { orgId: orgId('tpl-c'), name: 'Acme Robotics', focus: 'Hospital delivery robots' } },
      stack.adminKey,
    );
    expect(other.data!.createOrg.promotionPrompt).not.toBe(a.promotionPrompt);

    // Regenerating gives the same text again.
    const regenerated = await stack.gql(REGENERATE_ORG, { orgId: a.orgId }, stack.adminKey);
    expect(regenerated.data!.regenerateOrgPrompt.promotionPrompt).toBe(a.promotionPrompt);
  });
});
