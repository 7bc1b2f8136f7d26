import { createOrgWithKeys, errorCodes, type GraphQLResponse, type TestStack } from './stack';

/** The fields every org, role and team has (seed 000's response model). */
export const NODE_FIELDS =
  'name focus promotionPrompt promptMeta { generator model templateVersion generatedAt } createdAt updatedAt';

export const ROLE_FIELDS = `roleId orgId ${NODE_FIELDS}`;
export const TEAM_FIELDS = `teamId orgId ${NODE_FIELDS}`;
export const ORG_FIELDS = `orgId ${NODE_FIELDS}`;
export const ACTOR_FIELDS = 'actorId orgId roleId teamId displayName createdAt updatedAt';

/** Keys that would carry server internals; no error response may contain them. */
const LEAKY_EXTENSION_KEYS = ['stacktrace', 'exception', 'originalError'];

/** Asserts that no error of a response leaks a stack trace or exception details. */
export function expectNoStackTraces(response: GraphQLResponse): void {
  for (const error of response.errors ?? []) {
    for (const key of LEAKY_EXTENSION_KEYS) expect(error.extensions ?? {}).not.toHaveProperty(key);
    expect(error.message).not.toMatch(/\n\s+at /);
  }
}

/**
 * Asserts a response failed with exactly one error of `code` (and no data for it), and that
 * the error carries no stack trace. Returns the error for further checks on the message.
 */
export function expectError(response: GraphQLResponse, code: string) {
  expect(errorCodes(response)).toEqual([code]);
  expectNoStackTraces(response);
  const data = response.data as Record<string, unknown> | null | undefined;
  if (data) for (const value of Object.values(data)) expect(value).toBeNull();
  return response.errors![0]!;
}

/** Asserts success and returns the data. */
export function expectData<T = Record<string, any>>(response: GraphQLResponse<T>): T {
  expect(response.errors).toBeUndefined();
  expect(response.data).toBeTruthy();
  return response.data!;
}

/** An org with an admin key, a member key, a role, a team, an actor (with both) and a spare key. */
export interface Tenant {
  orgId: string;
  adminKey: string;
  adminKeyId: string;
  memberKey: string;
  memberKeyId: string;
  roleId: string;
  teamId: string;
  actorId: string;
  spareKey: string;
  spareKeyId: string;
}

/** Creates a {@link Tenant} through the gateway (org and keys with the platform key). */
export async function createTenant(stack: TestStack, orgId: string): Promise<Tenant> {
  const keys = await createOrgWithKeys(stack, orgId);
  const made = await stack.gql(
    `mutation($orgId: ID!) {
      createRole(input: { orgId: $orgId, name: "Backend Engineer", focus: "Python, Postgres" }) { roleId }
      createTeam(input: { orgId: $orgId, name: "Platform Team", focus: "CI/CD" }) { teamId }
      spare: createApiKey(orgId: $orgId, admin: false, name: "spare") { keyId key }
    }`,
    { orgId },
    keys.adminKey,
  );
  if (made.errors) throw new Error(`tenant setup failed: ${JSON.stringify(made.errors)}`);
  const roleId = made.data!.createRole.roleId as string;
  const teamId = made.data!.createTeam.teamId as string;
  const actorId = `user-of-${orgId}`;
  const actor = await stack.gql(
    `mutation($input: UpsertActorInput!) { upsertActor(input: $input) { actorId } }`,
    { input: { orgId, actorId, roleId, teamId, displayName: `User of ${orgId}` } },
    keys.adminKey,
  );
  if (actor.errors) throw new Error(`upsertActor failed: ${JSON.stringify(actor.errors)}`);
  return {
    orgId,
    ...keys,
    roleId,
    teamId,
    actorId,
    spareKey: made.data!.spare.key,
    spareKeyId: made.data!.spare.keyId,
  };
}

/**
 * Everything stored for an org, read back through the gateway: the org with its roles and
 * teams (prompts and timestamps included), its actors and, with an admin key, its API keys.
 * Two snapshots are equal only when nothing of the org changed.
 */
export async function snapshotOrg(stack: TestStack, orgId: string, key: string, admin = true) {
  const response = await stack.gql(
    `query($orgId: ID!) {
      org(orgId: $orgId) { ${ORG_FIELDS} roles { ${ROLE_FIELDS} } teams { ${TEAM_FIELDS} } }
      roles(orgId: $orgId, first: 500) { roleId }
      teams(orgId: $orgId, first: 500) { teamId }
      actors(orgId: $orgId, first: 500) { nodes { ${ACTOR_FIELDS} role { roleId } team { teamId } } }
      ${admin ? 'apiKeys(orgId: $orgId) { keyId name role admin keyPrefix revokedAt }' : ''}
    }`,
    { orgId },
    key,
  );
  if (response.errors) throw new Error(`snapshot of ${orgId} failed: ${JSON.stringify(response.errors)}`);
  return response.data!;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
