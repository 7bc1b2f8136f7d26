import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../common/config';
import { startStack, type Stack } from '../../scripts/stack';
import { createTestDatabase } from './database';

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  data?: T | null;
  errors?: Array<{
    message: string;
    path?: Array<string | number>;
    extensions?: Record<string, unknown> & { code?: string };
  }>;
}

export interface TestStack extends Stack {
  /** Sends one GraphQL request to the gateway, with `key` as bearer token when given. */
  gql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    key?: string | null,
  ): Promise<GraphQLResponse<T>>;
}

/**
 * The whole Memsy stack as `npm start` runs it (same code path), on free ports, with a
 * database of its own (embedded from the migrated template, or a fresh one on DATABASE_URL).
 * `env` overrides configuration variables, e.g. `{ LLM_BASE_URL: fake.url, LLM_MODEL: 'x' }`.
 */
export async function startTestStack(env: Record<string, string> = {}): Promise<TestStack> {
  const database = await createTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsy-stack-'));
  try {
    const config = loadConfig({ NODE_ENV: 'test', PORT: '0', MEMSY_DATA_DIR: dataDir, ...env });
    const stack = await startStack(config, { database: database.target });
    return {
      ...stack,
      gql: (query, variables, key) => postGraphQL(stack.url, query, variables, key),
      close: async () => {
        await stack.close();
        await database.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

export async function postGraphQL<T = Record<string, any>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  key?: string | null,
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
  return { status: response.status, ...body };
}

/** Error codes of a response, in order: the usual thing a test asserts on. */
export function errorCodes(response: GraphQLResponse): Array<string | undefined> {
  return (response.errors ?? []).map((error) => error.extensions?.code);
}

/** Creates an org with the platform key and returns an admin and a member key of it. */
export async function createOrgWithKeys(
  stack: TestStack,
  orgId: string,
  focus = 'B2B SaaS company building developer tools',
): Promise<{ adminKey: string; memberKey: string; adminKeyId: string; memberKeyId: string }> {
  const created = await stack.gql(
    `mutation($input: CreateOrgInput!) { createOrg(input: $input) { orgId } }`,
    { input: { orgId, name: `${orgId} Inc`, focus } },
    stack.adminKey,
  );
  if (created.errors) throw new Error(`createOrg failed: ${JSON.stringify(created.errors)}`);
  const keys = await stack.gql(
    `mutation($orgId: ID!) {
      admin: createApiKey(orgId: $orgId, admin: true, name: "admin") { keyId key }
      member: createApiKey(orgId: $orgId, admin: false, name: "member") { keyId key }
    }`,
    { orgId },
    stack.adminKey,
  );
  if (keys.errors) throw new Error(`createApiKey failed: ${JSON.stringify(keys.errors)}`);
  return {
    adminKey: keys.data!.admin.key,
    adminKeyId: keys.data!.admin.keyId,
    memberKey: keys.data!.member.key,
    memberKeyId: keys.data!.member.keyId,
  };
}
