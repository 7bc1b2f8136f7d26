import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse } from 'graphql';
import { IDENTITY_HEADER, signIdentity, type Identity } from '../../common/identity';
import {
  createTenant,
  expectData,
  expectError,
  expectNoStackTraces,
  snapshotOrg,
  type Tenant,
} from '../support/hierarchy-fixtures';
import {
  errorCodes,
  postGraphQL,
  startTestStack,
  type GraphQLResponse,
  type TestStack,
} from '../support/stack';

/**
 * Who may call which hierarchy operation (DESIGN.md section 4, common/authz.ts), tenant
 * isolation between orgs, and the subgraphs' refusal of anything that did not come through
 * the gateway.
 */

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.close());

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;

/** Runs a GraphQL document through the gateway with the platform key. */
const asPlatform = (query: string, variables: Record<string, unknown> = {}) =>
  stack.gql(query, variables, stack.adminKey);

// ---------------------------------------------------------------------------------------
// Callers
// ---------------------------------------------------------------------------------------

const CALLERS = [
  'platform key',
  'org admin key',
  'org member key',
  'no key',
  'malformed header',
  'unknown msy_ key',
  'revoked key',
] as const;
type Caller = (typeof CALLERS)[number];

/** An org the matrix acts on, with a revoked key of its own. */
interface MatrixOrg extends Tenant {
  revokedKey: string;
}

/** The Authorization header a caller sends (undefined: none). */
function authorization(caller: Caller, org: MatrixOrg): string | undefined {
  switch (caller) {
    case 'platform key':
      return `Bearer ${stack.adminKey}`;
    case 'org admin key':
      return `Bearer ${org.adminKey}`;
    case 'org member key':
      return `Bearer ${org.memberKey}`;
    case 'no key':
      return undefined;
    case 'malformed header':
      return `Basic ${Buffer.from('admin:secret').toString('base64')}`;
    case 'unknown msy_ key':
      return `Bearer msy_${randomBytes(32).toString('base64url')}`;
    case 'revoked key':
      return `Bearer ${org.revokedKey}`;
  }
}

function send(caller: Caller, org: MatrixOrg, query: string, variables: Record<string, unknown>) {
  const header = authorization(caller, org);
  return postGraphQL(stack.url, query, variables, null, header ? { authorization: header } : {});
}

async function newMatrixOrg(orgId: string): Promise<MatrixOrg> {
  const tenant = await createTenant(stack, orgId);
  const revoked = expectData(
    await stack.gql(
      `mutation($orgId: ID!) { createApiKey(orgId: $orgId, admin: true, name: "soon revoked") { keyId key } }`,
      { orgId },
      tenant.adminKey,
    ),
  ).createApiKey;
  expectData(
    await stack.gql(
      `mutation($id: ID!) { revokeApiKey(keyId: $id) }`,
      { id: revoked.keyId },
      tenant.adminKey,
    ),
  );
  return { ...tenant, revokedKey: revoked.key };
}

// ---------------------------------------------------------------------------------------
// Operations: one entry per Query and Mutation field of schema/hierarchy.graphql
// ---------------------------------------------------------------------------------------

interface Operation {
  field: string;
  document: string;
  /** Variables for one call; may create what the call needs (with the platform key). */
  prepare(org: MatrixOrg): Promise<Record<string, unknown>>;
  /** The call destroys its org (deleteOrg): every cell gets an org of its own. */
  ownOrg?: boolean;
  /** Takes an orgId (top level or in `input`), which only the platform key must pass. */
  orgScoped: boolean;
}

async function freshRole(org: MatrixOrg): Promise<string> {
  const res = await asPlatform(
    `mutation($input: CreateLevelInput!) { createRole(input: $input) { roleId } }`,
    {
      input: { orgId: org.orgId, name: unique('Role') },
    },
  );
  return expectData(res).createRole.roleId;
}

async function freshTeam(org: MatrixOrg): Promise<string> {
  const res = await asPlatform(
    `mutation($input: CreateLevelInput!) { createTeam(input: $input) { teamId } }`,
    {
      input: { orgId: org.orgId, name: unique('Team') },
    },
  );
  return expectData(res).createTeam.teamId;
}

const OPERATIONS: Operation[] = [
  // Queries
  {
    field: 'orgs',
    document: `{ orgs { orgId } }`,
    prepare: async () => ({}),
    orgScoped: false,
  },
  {
    field: 'org',
    document: `query($orgId: ID) { org(orgId: $orgId) { orgId } }`,
    prepare: async (org) => ({ orgId: org.orgId }),
    orgScoped: true,
  },
  {
    field: 'roles',
    document: `query($orgId: ID) { roles(orgId: $orgId) { roleId } }`,
    prepare: async (org) => ({ orgId: org.orgId }),
    orgScoped: true,
  },
  {
    field: 'role',
    document: `query($orgId: ID, $id: ID!) { role(orgId: $orgId, roleId: $id) { roleId } }`,
    prepare: async (org) => ({ orgId: org.orgId, id: org.roleId }),
    orgScoped: true,
  },
  {
    field: 'teams',
    document: `query($orgId: ID) { teams(orgId: $orgId) { teamId } }`,
    prepare: async (org) => ({ orgId: org.orgId }),
    orgScoped: true,
  },
  {
    field: 'team',
    document: `query($orgId: ID, $id: ID!) { team(orgId: $orgId, teamId: $id) { teamId } }`,
    prepare: async (org) => ({ orgId: org.orgId, id: org.teamId }),
    orgScoped: true,
  },
  {
    field: 'actor',
    document: `query($orgId: ID, $id: ID!) { actor(orgId: $orgId, actorId: $id) { actorId } }`,
    prepare: async (org) => ({ orgId: org.orgId, id: org.actorId }),
    orgScoped: true,
  },
  {
    field: 'actors',
    document: `query($orgId: ID) { actors(orgId: $orgId) { nodes { actorId } } }`,
    prepare: async (org) => ({ orgId: org.orgId }),
    orgScoped: true,
  },
  {
    field: 'apiKeys',
    document: `query($orgId: ID) { apiKeys(orgId: $orgId) { keyId } }`,
    prepare: async (org) => ({ orgId: org.orgId }),
    orgScoped: true,
  },
  {
    field: 'viewer',
    document: `{ viewer { keyId orgId role } }`,
    prepare: async () => ({}),
    orgScoped: false,
  },
  // Mutations
  {
    field: 'createOrg',
    document: `mutation($input: CreateOrgInput!) { createOrg(input: $input) { orgId } }`,
    prepare: async () => ({ input: { orgId: unique('matrix-new'), name: 'New Org' } }),
    orgScoped: false,
  },
  {
    field: 'updateOrg',
    document: `mutation($orgId: ID, $name: String) { updateOrg(orgId: $orgId, input: { name: $name }) { orgId } }`,
    prepare: async (org) => ({ orgId: org.orgId, name: unique('Renamed') }),
    orgScoped: true,
  },
  {
    field: 'regenerateOrgPrompt',
    document: `mutation($orgId: ID) { regenerateOrgPrompt(orgId: $orgId) { orgId } }`,
    prepare: async (org) => ({ orgId: org.orgId }),
    orgScoped: true,
  },
  {
    field: 'deleteOrg',
    document: `mutation($orgId: ID) { deleteOrg(orgId: $orgId) }`,
    prepare: async (org) => ({ orgId: org.orgId }),
    ownOrg: true,
    orgScoped: true,
  },
  {
    field: 'createRole',
    document: `mutation($orgId: ID, $name: String!) { createRole(input: { orgId: $orgId, name: $name }) { roleId } }`,
    prepare: async (org) => ({ orgId: org.orgId, name: unique('Role') }),
    orgScoped: true,
  },
  {
    field: 'updateRole',
    document: `mutation($orgId: ID, $id: ID!, $focus: String) {
      updateRole(orgId: $orgId, roleId: $id, input: { focus: $focus }) { roleId } }`,
    prepare: async (org) => ({ orgId: org.orgId, id: await freshRole(org), focus: unique('focus') }),
    orgScoped: true,
  },
  {
    field: 'regenerateRolePrompt',
    document: `mutation($orgId: ID, $id: ID!) { regenerateRolePrompt(orgId: $orgId, roleId: $id) { roleId } }`,
    prepare: async (org) => ({ orgId: org.orgId, id: org.roleId }),
    orgScoped: true,
  },
  {
    field: 'deleteRole',
    document: `mutation($orgId: ID, $id: ID!) { deleteRole(orgId: $orgId, roleId: $id) }`,
    prepare: async (org) => ({ orgId: org.orgId, id: await freshRole(org) }),
    orgScoped: true,
  },
  {
    field: 'createTeam',
    document: `mutation($orgId: ID, $name: String!) { createTeam(input: { orgId: $orgId, name: $name }) { teamId } }`,
    prepare: async (org) => ({ orgId: org.orgId, name: unique('Team') }),
    orgScoped: true,
  },
  {
    field: 'updateTeam',
    document: `mutation($orgId: ID, $id: ID!, $name: String) {
      updateTeam(orgId: $orgId, teamId: $id, input: { name: $name }) { teamId } }`,
    prepare: async (org) => ({ orgId: org.orgId, id: await freshTeam(org), name: unique('Team') }),
    orgScoped: true,
  },
  {
    field: 'regenerateTeamPrompt',
    document: `mutation($orgId: ID, $id: ID!) { regenerateTeamPrompt(orgId: $orgId, teamId: $id) { teamId } }`,
    prepare: async (org) => ({ orgId: org.orgId, id: org.teamId }),
    orgScoped: true,
  },
  {
    field: 'deleteTeam',
    document: `mutation($orgId: ID, $id: ID!) { deleteTeam(orgId: $orgId, teamId: $id) }`,
    prepare: async (org) => ({ orgId: org.orgId, id: await freshTeam(org) }),
    orgScoped: true,
  },
  {
    field: 'upsertActor',
    document: `mutation($orgId: ID, $id: ID!, $roleId: ID, $teamId: ID) {
      upsertActor(input: { orgId: $orgId, actorId: $id, roleId: $roleId, teamId: $teamId }) { actorId } }`,
    prepare: async (org) => ({
      orgId: org.orgId,
      id: unique('actor'),
      roleId: org.roleId,
      teamId: org.teamId,
    }),
    orgScoped: true,
  },
  {
    field: 'createApiKey',
    document: `mutation($orgId: ID) { createApiKey(orgId: $orgId, admin: false, name: "matrix") { keyId key } }`,
    prepare: async (org) => ({ orgId: org.orgId }),
    orgScoped: true,
  },
  {
    field: 'revokeApiKey',
    document: `mutation($id: ID!) { revokeApiKey(keyId: $id) }`,
    prepare: async (org) => {
      const res = await asPlatform(
        `mutation($orgId: ID!) { createApiKey(orgId: $orgId, admin: false) { keyId } }`,
        {
          orgId: org.orgId,
        },
      );
      return { id: expectData(res).createApiKey.keyId };
    },
    orgScoped: false,
  },
];

// ---------------------------------------------------------------------------------------
// The matrix: expected outcome of every operation for every caller
// ---------------------------------------------------------------------------------------

const OK = 'allowed';
const FORBIDDEN = 'FORBIDDEN';
const UNAUTH = 'UNAUTHENTICATED';
type Outcome = typeof OK | typeof FORBIDDEN | typeof UNAUTH;

// prettier-ignore
const MATRIX: Record<string, [Outcome, Outcome, Outcome, Outcome, Outcome, Outcome, Outcome]> = {
  //                      platform   org admin  member     no key  malformed  unknown  revoked
  orgs:                  [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  org:                   [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  roles:                 [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  role:                  [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  teams:                 [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  team:                  [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  actor:                 [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  actors:                [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  apiKeys:               [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  viewer:                [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  createOrg:             [OK,        FORBIDDEN, FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  updateOrg:             [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  regenerateOrgPrompt:   [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  deleteOrg:             [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  createRole:            [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  updateRole:            [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  regenerateRolePrompt:  [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  deleteRole:            [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  createTeam:            [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  updateTeam:            [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  regenerateTeamPrompt:  [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  deleteTeam:            [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  upsertActor:           [OK,        OK,        OK,        UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  createApiKey:          [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
  revokeApiKey:          [OK,        OK,        FORBIDDEN, UNAUTH, UNAUTH,    UNAUTH,  UNAUTH],
};

/** What a member key is told on an operation it may not run (the seed's AuthorizationError). */
const FORBIDDEN_MESSAGE: Record<string, string> = { createOrg: 'createOrg requires the platform admin key' };
const forbiddenMessage = (field: string) => FORBIDDEN_MESSAGE[field] ?? `${field} requires an admin API key`;

/** Everything the platform key can see of an org, plus the list of orgs. */
async function snapshotWorld(orgId: string) {
  const orgs = expectData(await asPlatform(`{ orgs(first: 500) { orgId name } }`)).orgs;
  return { orgs, org: await snapshotOrg(stack, orgId, stack.adminKey) };
}

describe('authorization matrix: every hierarchy operation × every kind of caller', () => {
  let shared: MatrixOrg;
  beforeAll(async () => {
    shared = await newMatrixOrg('matrix-org');
  });

  const cells = OPERATIONS.flatMap((operation) =>
    CALLERS.map((caller, column) => ({
      operation,
      caller,
      outcome: MATRIX[operation.field]![column]!,
    })),
  );

  it.each(cells.map((cell) => [cell.operation.field, cell.caller, cell.outcome, cell] as const))(
    '%s with %s: %s',
    async (field, caller, outcome, { operation }) => {
      const org = operation.ownOrg ? await newMatrixOrg(unique('matrix-own')) : shared;
      const variables = await operation.prepare(org);
      const isMutation = operation.document.trimStart().startsWith('mutation');
      const before = outcome !== OK && isMutation ? await snapshotWorld(org.orgId) : undefined;

      const res = await send(caller, org, operation.document, variables);

      if (outcome === OK) {
        expect(res.errors).toBeUndefined();
        expect(res.status).toBe(200);
        expect(res.data?.[field]).toBeTruthy();
        if (field === 'viewer') {
          const role = { 'platform key': 'platform', 'org admin key': 'admin', 'org member key': 'member' };
          expect(res.data!.viewer).toMatchObject({
            role: role[caller as keyof typeof role],
            orgId: caller === 'platform key' ? null : org.orgId,
          });
        }
        return;
      }
      const error = expectError(res, outcome);
      if (outcome === UNAUTH) {
        expect(res.status).toBe(401);
      } else {
        expect(error.message).toBe(forbiddenMessage(field));
        expect(error.extensions).toMatchObject({ code: FORBIDDEN, operation: field });
      }
      // A refused mutation changed nothing.
      if (before) expect(await snapshotWorld(org.orgId)).toEqual(before);
      if (field === 'createOrg') {
        expectError(
          await asPlatform(`query($o: ID) { org(orgId: $o) { orgId } }`, {
            o: (variables.input as { orgId: string }).orgId,
          }),
          'NOT_FOUND',
        );
      }
    },
  );

  describe('orgId: required with the platform key, optional with a key of the org', () => {
    const scoped = OPERATIONS.filter((operation) => operation.orgScoped);
    const withoutOrgId = (variables: Record<string, unknown>) => {
      const { orgId: _orgId, ...rest } = variables;
      if (rest.input && typeof rest.input === 'object') {
        const { orgId: _inner, ...input } = rest.input as Record<string, unknown>;
        rest.input = input;
      }
      return rest;
    };

    it.each(scoped.map((operation) => [operation.field, operation] as const))(
      '%s without orgId is BAD_USER_INPUT for the platform key',
      async (_field, operation) => {
        const org = operation.ownOrg ? await newMatrixOrg(unique('matrix-own')) : shared;
        const variables = withoutOrgId(await operation.prepare(org));
        const before = await snapshotWorld(org.orgId);
        const error = expectError(
          await send('platform key', org, operation.document, variables),
          'BAD_USER_INPUT',
        );
        expect(error.extensions).toMatchObject({ field: 'orgId' });
        expect(await snapshotWorld(org.orgId)).toEqual(before);
      },
    );

    it.each(scoped.map((operation) => [operation.field, operation] as const))(
      '%s without orgId acts on the org of an admin key',
      async (field, operation) => {
        const org = operation.ownOrg ? await newMatrixOrg(unique('matrix-own')) : shared;
        const variables = withoutOrgId(await operation.prepare(org));
        const res = await send('org admin key', org, operation.document, variables);
        expect(res.errors).toBeUndefined();
        expect(res.data?.[field]).toBeTruthy();
      },
    );
  });

  it('a revoked key is refused on the very next request', async () => {
    const org = shared;
    const created = expectData(
      await stack.gql(
        `mutation { member: createApiKey(admin: false) { keyId key } admin: createApiKey(admin: true) { keyId key } }`,
        {},
        org.adminKey,
      ),
    );
    const viewer = `{ viewer { keyId } }`;
    for (const { keyId, key } of [created.member, created.admin]) {
      // Used once, so the gateway has it in its authentication cache.
      expect(expectData(await stack.gql(viewer, {}, key)).viewer.keyId).toBe(keyId);
      expect(expectData(await stack.gql(viewer, {}, key)).viewer.keyId).toBe(keyId);
      expect(
        expectData(
          await stack.gql(`mutation($id: ID!) { revokeApiKey(keyId: $id) }`, { id: keyId }, org.adminKey),
        ).revokeApiKey,
      ).toBe(true);
      const next = await stack.gql(viewer, {}, key);
      expectError(next, UNAUTH);
      expect(next.status).toBe(401);
    }
    // An admin key may revoke itself; it is refused from its next request on.
    const self = expectData(
      await stack.gql(`mutation { createApiKey(admin: true) { keyId key } }`, {}, org.adminKey),
    ).createApiKey;
    expect(
      expectData(
        await stack.gql(`mutation($id: ID!) { revokeApiKey(keyId: $id) }`, { id: self.keyId }, self.key),
      ).revokeApiKey,
    ).toBe(true);
    expectError(await stack.gql(viewer, {}, self.key), UNAUTH);
    // The revoked keys are still listed, with the time of revocation; the others still work.
    const keys = expectData(await stack.gql(`{ apiKeys { keyId revokedAt } }`, {}, org.adminKey)).apiKeys;
    for (const keyId of [created.member.keyId, created.admin.keyId, self.keyId]) {
      expect(keys.find((k: { keyId: string }) => k.keyId === keyId).revokedAt).toEqual(expect.any(String));
    }
    expect(keys.find((k: { keyId: string }) => k.keyId === org.adminKeyId).revokedAt).toBeNull();
    expect(expectData(await stack.gql(viewer, {}, org.memberKey)).viewer.keyId).toBe(org.memberKeyId);
  });

  it('the platform key cannot be revoked through the API', async () => {
    const platformKeyId = expectData(await asPlatform(`{ viewer { keyId } }`)).viewer.keyId;
    const error = expectError(
      await asPlatform(`mutation($id: ID!) { revokeApiKey(keyId: $id) }`, { id: platformKeyId }),
      FORBIDDEN,
    );
    expect(error.message).toMatch(/platform/);
    // Another org's admin does not even learn that it exists.
    expectError(
      await stack.gql(
        `mutation($id: ID!) { revokeApiKey(keyId: $id) }`,
        { id: platformKeyId },
        shared.adminKey,
      ),
      'NOT_FOUND',
    );
    expect(expectData(await asPlatform(`{ viewer { role } }`)).viewer.role).toBe('platform');
  });

  it.each([
    ['no scheme', () => shared.adminKey],
    ['an empty bearer', () => 'Bearer '],
    ['two tokens', () => `Bearer ${shared.adminKey} ${shared.adminKey}`],
    ['a key without the msy_ prefix', () => `Bearer ${shared.adminKey.slice(4)}`],
    ['an over-long msy_ key', () => `Bearer msy_${'a'.repeat(500)}`],
    ['a truncated key', () => `Bearer ${shared.adminKey.slice(0, -1)}`],
  ])('an Authorization header with %s is UNAUTHENTICATED (401)', async (_label, header) => {
    const res = await postGraphQL(stack.url, `{ viewer { role } }`, {}, null, { authorization: header() });
    expectError(res, UNAUTH);
    expect(res.status).toBe(401);
  });
});

// ---------------------------------------------------------------------------------------
// Tenant isolation
// ---------------------------------------------------------------------------------------

interface CrossTenantAttempt {
  field: string;
  label: string;
  document: string;
  variables(a: Tenant, b: Tenant): Record<string, unknown>;
  /**
   * The code A's admin key gets. A's member key gets it too, or FORBIDDEN when the operation
   * is admin-only and the org check passes (ids of B looked up in A's own org).
   * A function instead checks an operation that names no org (viewer, orgs, apiKeys).
   */
  expected: 'FORBIDDEN' | 'NOT_FOUND' | ((res: GraphQLResponse, a: Tenant, b: Tenant, key: string) => void);
}

const ISOLATION: CrossTenantAttempt[] = [
  {
    field: 'orgs',
    label: 'lists only the own org',
    document: `{ orgs(first: 500) { orgId roles { roleId } teams { teamId } } }`,
    variables: () => ({}),
    expected: (res, a) =>
      expect(expectData(res).orgs).toEqual([
        { orgId: a.orgId, roles: [{ roleId: a.roleId }], teams: [{ teamId: a.teamId }] },
      ]),
  },
  {
    field: 'viewer',
    label: 'names the own org',
    document: `{ viewer { orgId } }`,
    variables: () => ({}),
    expected: (res, a) => expect(expectData(res).viewer.orgId).toBe(a.orgId),
  },
  {
    field: 'apiKeys',
    label: "never shows B's keys",
    document: `{ apiKeys { keyId orgId } }`,
    variables: () => ({}),
    expected: (res, a, b, key) => {
      if (key === a.memberKey) {
        expectError(res, 'FORBIDDEN');
        return;
      }
      const keys = expectData(res).apiKeys as Array<{ keyId: string; orgId: string }>;
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => k.orgId === a.orgId)).toBe(true);
      for (const keyId of [b.adminKeyId, b.memberKeyId, b.spareKeyId])
        expect(keys.map((k) => k.keyId)).not.toContain(keyId);
    },
  },
  {
    field: 'apiKeys',
    label: 'naming org B',
    document: `query($o: ID) { apiKeys(orgId: $o) { keyId } }`,
    variables: (_a, b) => ({ o: b.orgId }),
    expected: 'FORBIDDEN',
  },
  {
    field: 'org',
    label: 'naming org B',
    document: `query($o: ID) { org(orgId: $o) { orgId } }`,
    variables: (_a, b) => ({ o: b.orgId }),
    expected: 'FORBIDDEN',
  },
  ...(['role', 'team'] as const).flatMap((level): CrossTenantAttempt[] => {
    const Kind = level === 'role' ? 'Role' : 'Team';
    const id = (t: Tenant) => (level === 'role' ? t.roleId : t.teamId);
    return [
      {
        field: `${level}s`,
        label: 'naming org B',
        document: `query($o: ID) { ${level}s(orgId: $o) { ${level}Id } }`,
        variables: (_a, b) => ({ o: b.orgId }),
        expected: 'FORBIDDEN',
      },
      {
        field: `${level}s`,
        label: `paging after B's ${level} id`,
        document: `query($after: ID) { ${level}s(after: $after) { ${level}Id } }`,
        variables: (_a, b) => ({ after: id(b) }),
        expected: 'NOT_FOUND',
      },
      {
        field: level,
        label: 'naming org B',
        document: `query($o: ID, $id: ID!) { ${level}(orgId: $o, ${level}Id: $id) { ${level}Id } }`,
        variables: (_a, b) => ({ o: b.orgId, id: id(b) }),
        expected: 'FORBIDDEN',
      },
      {
        field: level,
        label: `B's ${level} id in the own org`,
        document: `query($id: ID!) { ${level}(${level}Id: $id) { ${level}Id } }`,
        variables: (_a, b) => ({ id: id(b) }),
        expected: 'NOT_FOUND',
      },
      {
        field: `create${Kind}`,
        label: 'naming org B',
        document: `mutation($o: ID) { create${Kind}(input: { orgId: $o, name: "Intruder" }) { ${level}Id } }`,
        variables: (_a, b) => ({ o: b.orgId }),
        expected: 'FORBIDDEN',
      },
      ...(['update', 'regenerate', 'delete'] as const).flatMap((verb): CrossTenantAttempt[] => {
        const name = verb === 'regenerate' ? `regenerate${Kind}Prompt` : `${verb}${Kind}`;
        const input = verb === 'update' ? ', input: { name: "Hijacked", focus: "hijacked" }' : '';
        const selection = verb === 'delete' ? '' : ` { ${level}Id }`;
        return [
          {
            field: name,
            label: 'naming org B',
            document: `mutation($o: ID, $id: ID!) { ${name}(orgId: $o, ${level}Id: $id${input})${selection} }`,
            variables: (_a, b) => ({ o: b.orgId, id: id(b) }),
            expected: 'FORBIDDEN',
          },
          {
            field: name,
            label: `B's ${level} id in the own org`,
            document: `mutation($id: ID!) { ${name}(${level}Id: $id${input})${selection} }`,
            variables: (_a, b) => ({ id: id(b) }),
            expected: 'NOT_FOUND',
          },
        ];
      }),
    ];
  }),
  {
    field: 'actor',
    label: 'naming org B',
    document: `query($o: ID, $id: ID!) { actor(orgId: $o, actorId: $id) { actorId } }`,
    variables: (_a, b) => ({ o: b.orgId, id: b.actorId }),
    expected: 'FORBIDDEN',
  },
  {
    field: 'actor',
    label: "B's actor id in the own org",
    document: `query($id: ID!) { actor(actorId: $id) { actorId } }`,
    variables: (_a, b) => ({ id: b.actorId }),
    expected: 'NOT_FOUND',
  },
  {
    field: 'actors',
    label: 'naming org B',
    document: `query($o: ID) { actors(orgId: $o) { nodes { actorId } } }`,
    variables: (_a, b) => ({ o: b.orgId }),
    expected: 'FORBIDDEN',
  },
  {
    field: 'upsertActor',
    label: 'naming org B',
    document: `mutation($o: ID, $id: ID!) { upsertActor(input: { orgId: $o, actorId: $id, displayName: "Hijacked" }) { actorId } }`,
    variables: (_a, b) => ({ o: b.orgId, id: b.actorId }),
    expected: 'FORBIDDEN',
  },
  {
    field: 'upsertActor',
    label: "with B's role",
    document: `mutation($id: ID!, $r: ID) { upsertActor(input: { actorId: $id, roleId: $r }) { actorId } }`,
    variables: (_a, b) => ({ id: b.actorId, r: b.roleId }),
    expected: 'NOT_FOUND',
  },
  {
    field: 'upsertActor',
    label: "with B's team",
    document: `mutation($id: ID!, $t: ID) { upsertActor(input: { actorId: $id, teamId: $t }) { actorId } }`,
    variables: (_a, b) => ({ id: b.actorId, t: b.teamId }),
    expected: 'NOT_FOUND',
  },
  {
    field: 'createApiKey',
    label: 'naming org B',
    document: `mutation($o: ID) { createApiKey(orgId: $o, admin: true) { key } }`,
    variables: (_a, b) => ({ o: b.orgId }),
    expected: 'FORBIDDEN',
  },
  {
    field: 'revokeApiKey',
    label: "of B's spare key",
    document: `mutation($id: ID!) { revokeApiKey(keyId: $id) }`,
    variables: (_a, b) => ({ id: b.spareKeyId }),
    expected: 'NOT_FOUND',
  },
  {
    field: 'revokeApiKey',
    label: "of B's admin key",
    document: `mutation($id: ID!) { revokeApiKey(keyId: $id) }`,
    variables: (_a, b) => ({ id: b.adminKeyId }),
    expected: 'NOT_FOUND',
  },
  {
    field: 'createOrg',
    label: "with B's org id",
    document: `mutation($o: String!) { createOrg(input: { orgId: $o, name: "Hijacked" }) { orgId } }`,
    variables: (_a, b) => ({ o: b.orgId }),
    expected: 'FORBIDDEN',
  },
  {
    field: 'updateOrg',
    label: 'naming org B',
    document: `mutation($o: ID) { updateOrg(orgId: $o, input: { name: "Hijacked" }) { orgId } }`,
    variables: (_a, b) => ({ o: b.orgId }),
    expected: 'FORBIDDEN',
  },
  {
    field: 'regenerateOrgPrompt',
    label: 'naming org B',
    document: `mutation($o: ID) { regenerateOrgPrompt(orgId: $o) { orgId } }`,
    variables: (_a, b) => ({ o: b.orgId }),
    expected: 'FORBIDDEN',
  },
  {
    field: 'deleteOrg',
    label: 'naming org B',
    document: `mutation($o: ID) { deleteOrg(orgId: $o) }`,
    variables: (_a, b) => ({ o: b.orgId }),
    expected: 'FORBIDDEN',
  },
];

describe('tenant isolation between two orgs', () => {
  let a: Tenant;
  let b: Tenant;
  let bBefore: Record<string, any>;

  beforeAll(async () => {
    a = await createTenant(stack, 'tenant-a');
    b = await createTenant(stack, 'tenant-b');
    bBefore = await snapshotOrg(stack, b.orgId, b.adminKey);
  });

  const rows = ISOLATION.flatMap((attempt) =>
    (['admin', 'member'] as const).map((who) => [attempt.field, attempt.label, who, attempt] as const),
  );

  it.each(rows)(
    "%s %s with A's %s key: refused, and B is unchanged",
    async (_field, _label, who, attempt) => {
      const key = who === 'admin' ? a.adminKey : a.memberKey;
      const res = await stack.gql(attempt.document, attempt.variables(a, b), key);
      if (typeof attempt.expected === 'function') {
        attempt.expected(res, a, b, key);
      } else if (who === 'admin' || attempt.expected === 'FORBIDDEN') {
        expectError(res, attempt.expected);
      } else {
        expectNoStackTraces(res);
        expect(['FORBIDDEN', 'NOT_FOUND']).toContain(errorCodes(res)[0]);
        expect(errorCodes(res)).toHaveLength(1);
      }
      // Read back with B's own key: nothing of B changed, and B's keys all still work.
      expect(await snapshotOrg(stack, b.orgId, b.adminKey)).toEqual(bBefore);
    },
  );

  it("B's keys still work after every attempt, and A still sees only its own data", async () => {
    for (const key of [b.adminKey, b.memberKey, b.spareKey]) {
      expect(expectData(await stack.gql(`{ viewer { orgId } }`, {}, key)).viewer.orgId).toBe(b.orgId);
    }
    const actors = expectData(
      await stack.gql(`{ actors(first: 500) { nodes { actorId orgId } } }`, {}, a.adminKey),
    ).actors.nodes as Array<{ actorId: string; orgId: string }>;
    expect(actors.every((actor) => actor.orgId === a.orgId)).toBe(true);
    // An upsert of B's actor id through A's key made (at most) an actor of A, never touched B's.
    expect(
      expectData(
        await stack.gql(
          `query($id: ID!) { actor(actorId: $id) { orgId roleId teamId } }`,
          { id: b.actorId },
          b.memberKey,
        ),
      ).actor,
    ).toEqual({
      orgId: b.orgId,
      roleId: b.roleId,
      teamId: b.teamId,
    });
  });

  describe('the federation _entities path on the hierarchy subgraph', () => {
    const ENTITIES = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Actor { actorId orgId roleId role { name } } } }`;
    const signed = (identity: Identity, now?: number) => ({
      [IDENTITY_HEADER]: signIdentity(identity, stack.internalSecret, now),
    });
    const representations = () => [
      { __typename: 'Actor', actorId: b.actorId, orgId: b.orgId },
      { __typename: 'Actor', actorId: a.actorId, orgId: a.orgId },
    ];

    it.each(['admin', 'member'] as const)(
      "an identity of A's %s key gets null for B's actor",
      async (role) => {
        const identity: Identity = {
          kind: 'key',
          keyId: role === 'admin' ? a.adminKeyId : a.memberKeyId,
          orgId: a.orgId,
          role,
        };
        const res = await postGraphQL(
          stack.subgraphUrls.hierarchy!,
          ENTITIES,
          { r: representations() },
          null,
          signed(identity),
        );
        expect(res.errors).toBeUndefined();
        // B's actor is not resolved; A's own actor (the control) is.
        expect(res.data!._entities).toEqual([
          null,
          { actorId: a.actorId, orgId: a.orgId, roleId: a.roleId, role: { name: 'Backend Engineer' } },
        ]);
      },
    );

    it("the platform identity resolves both orgs' actors (the control for the null above)", async () => {
      const platformKeyId = expectData(await asPlatform(`{ viewer { keyId } }`)).viewer.keyId;
      const res = await postGraphQL(
        stack.subgraphUrls.hierarchy!,
        ENTITIES,
        { r: representations() },
        null,
        signed({ kind: 'key', keyId: platformKeyId, orgId: null, role: 'platform' }),
      );
      expect(res.errors).toBeUndefined();
      expect(res.data!._entities.map((e: { orgId: string } | null) => e?.orgId)).toEqual([b.orgId, a.orgId]);
    });
  });
});

// ---------------------------------------------------------------------------------------
// Subgraphs only trust the gateway
// ---------------------------------------------------------------------------------------

describe('direct calls to the hierarchy subgraph', () => {
  const VIEWER = `{ viewer { role orgId } }`;
  const identity: Identity = { kind: 'key', keyId: 'key_forged', orgId: null, role: 'platform' };
  const subgraphUrl = () => stack.subgraphUrls.hierarchy!;
  const authenticateUrl = () => new URL('/internal/authenticate', subgraphUrl()).toString();

  /** The payload of a token with a signature that belongs to another payload. */
  function tamperedToken(): string {
    const genuine = signIdentity(
      { kind: 'key', keyId: 'key_x', orgId: 'tenant-a', role: 'member' },
      stack.internalSecret,
    );
    const forgedPayload = signIdentity(identity, 'not-the-secret').split('.')[0];
    return `${forgedPayload}.${genuine.split('.')[1]}`;
  }

  const refused: Array<[string, () => Record<string, string>]> = [
    ['without the identity header', () => ({})],
    [
      'with a signature made with another secret',
      () => ({ [IDENTITY_HEADER]: signIdentity(identity, 'not-the-secret') }),
    ],
    ['with a payload swapped under a genuine signature', () => ({ [IDENTITY_HEADER]: tamperedToken() })],
    ['with garbage in the header', () => ({ [IDENTITY_HEADER]: 'garbage' })],
    [
      'with an identity signed 10 minutes ago',
      () => ({ [IDENTITY_HEADER]: signIdentity(identity, stack.internalSecret, Date.now() - 10 * 60_000) }),
    ],
    [
      'with an identity dated 10 minutes ahead',
      () => ({ [IDENTITY_HEADER]: signIdentity(identity, stack.internalSecret, Date.now() + 10 * 60_000) }),
    ],
    // An API key is for the gateway; the subgraph does not accept one in place of an identity.
    ['with only the platform API key', () => ({ authorization: `Bearer ${stack.adminKey}` })],
  ];

  it.each(refused)('GraphQL %s is UNAUTHENTICATED', async (_label, headers) => {
    const res = await postGraphQL(subgraphUrl(), VIEWER, {}, null, headers());
    expect(errorCodes(res)).toEqual([UNAUTH]);
    expectNoStackTraces(res);
    expect(res.data ?? null).toBeNull();
  });

  it('GraphQL with a fresh, correctly signed identity is answered (the control)', async () => {
    const res = await postGraphQL(subgraphUrl(), VIEWER, {}, null, {
      [IDENTITY_HEADER]: signIdentity(identity, stack.internalSecret),
    });
    expect(expectData(res).viewer).toEqual({ role: 'platform', orgId: null });
  });

  const postAuthenticate = (headers: Record<string, string>) =>
    fetch(authenticateUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ key: stack.adminKey }),
    });

  it.each(refused)('/internal/authenticate %s is 401', async (_label, headers) => {
    const response = await postAuthenticate(headers());
    expect(response.status).toBe(401);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty('identity');
    expect(JSON.stringify(body)).not.toContain('platform');
  });

  it('/internal/authenticate with a signed service identity resolves the key (the control)', async () => {
    const response = await postAuthenticate({
      [IDENTITY_HEADER]: signIdentity({ kind: 'service', service: 'test' }, stack.internalSecret),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      identity: { kind: 'key', keyId: expect.stringMatching(/^key_/), orgId: null, role: 'platform' },
    });
  });
});

// ---------------------------------------------------------------------------------------
// Coverage: a new Query or Mutation field without an auth test fails here
// ---------------------------------------------------------------------------------------

describe('coverage of schema/hierarchy.graphql', () => {
  const schemaFields = (() => {
    const sdl = fs.readFileSync(path.resolve(__dirname, '..', '..', 'schema', 'hierarchy.graphql'), 'utf8');
    const fields: string[] = [];
    for (const definition of parse(sdl).definitions) {
      if (
        (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) &&
        ['Query', 'Mutation'].includes(definition.name.value)
      ) {
        for (const field of definition.fields ?? []) fields.push(field.name.value);
      }
    }
    return fields.filter((name) => name !== '_entities' && name !== '_service').sort();
  })();

  it('finds the hierarchy operations in the schema', () => {
    expect(schemaFields).toEqual(
      expect.arrayContaining(['createOrg', 'orgs', 'upsertActor', 'revokeApiKey']),
    );
  });

  it('the matrix has a row, and an operation, for exactly the Query and Mutation fields', () => {
    expect(Object.keys(MATRIX).sort()).toEqual(schemaFields);
    expect(OPERATIONS.map((operation) => operation.field).sort()).toEqual(schemaFields);
  });

  it('the isolation suite attacks every Query and Mutation field', () => {
    expect([...new Set(ISOLATION.map((attempt) => attempt.field))].sort()).toEqual(schemaFields);
  });
});
