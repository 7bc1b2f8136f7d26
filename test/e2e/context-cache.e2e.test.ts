import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../common/config';
import { startStack, type Stack } from '../../scripts/stack';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { ingestDocuments, waitForJob } from '../support/memory-fixtures';
import { createOrgWithKeys, postGraphQL, type TestStack } from '../support/stack';

/**
 * Seed 004 stage 4: the org part of context results is cached, and any change of org context
 * (a document, an org memory, an explicit invalidation) misses the cache at once on every
 * instance. Two complete instances (gateway + subgraphs) share one database here.
 */
describe('org-context cache across two instances sharing one database', () => {
  let database: TestDatabase;
  let first: Stack;
  let second: Stack;
  let adminKey: string;
  const dirs: string[] = [];

  const QUERY = `{ context(actorId: "carol", query: "What is the refund policy?") { cached items { scope { level } memory { content } } } }`;

  async function start(): Promise<Stack> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsy-cache-'));
    dirs.push(dir);
    return startStack(loadConfig({ NODE_ENV: 'test', PORT: '0', MEMSY_DATA_DIR: dir }), {
      database: database.target,
    });
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    first = await start();
    second = await start();
    const asTestStack = {
      ...first,
      gql: (q: string, v?: Record<string, unknown>, k?: string | null) => postGraphQL(first.url, q, v, k),
    } as TestStack;
    ({ adminKey } = await createOrgWithKeys(asTestStack, 'cache-org'));
    await postGraphQL(
      first.url,
      `mutation { upsertActor(input: { actorId: "carol" }) { actorId } }`,
      {},
      adminKey,
    );
    const job = await ingestDocuments(asTestStack, adminKey, [
      { documentId: 'doc_refunds', content: 'Standard refund policy: returns within 30 days.' },
    ]);
    expect((await waitForJob(asTestStack, adminKey, job.jobId)).status).toBe('DONE');
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
    await database?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const ask = async (stack: Stack) => {
    const result = await postGraphQL(stack.url, QUERY, {}, adminKey);
    expect(result.errors).toBeUndefined();
    return result.data!.context as { cached: boolean; items: Array<{ memory: { content: string } }> };
  };

  it('serves the org part from cache until org context changes, on both instances', async () => {
    expect((await ask(first)).cached).toBe(false);
    expect((await ask(first)).cached).toBe(true);
    expect((await ask(second)).cached).toBe(false);
    expect((await ask(second)).cached).toBe(true);

    // An org memory written through the SECOND instance invalidates the FIRST one's cache.
    const created = await postGraphQL(
      second.url,
      `mutation { createMemory(input: { content: "Refunds above 500 EUR need a manager's approval.", infer: false }) { id scope { level } } }`,
      {},
      adminKey,
    );
    expect(created.data!.createMemory.scope.level).toBe('ORG');
    const afterWrite = await ask(first);
    expect(afterWrite.cached).toBe(false);
    expect(afterWrite.items.map((item) => item.memory.content)).toContain(
      "Refunds above 500 EUR need a manager's approval.",
    );
    expect((await ask(first)).cached).toBe(true);

    // An explicit invalidation on one instance reaches the other.
    const invalidated = await postGraphQL(second.url, `mutation { invalidateContextCache }`, {}, adminKey);
    expect(invalidated.data).toEqual({ invalidateContextCache: true });
    expect((await ask(first)).cached).toBe(false);
  });

  it('does not let actor-scope writes invalidate the org part, and keeps actor memories live', async () => {
    expect((await ask(first)).cached).toBe(true);
    await postGraphQL(
      first.url,
      `mutation { createMemory(input: { actorId: "carol", content: "Carol's refund window is 90 days.", infer: false }) { id } }`,
      {},
      adminKey,
    );
    const result = await ask(first);
    expect(result.cached).toBe(true);
    expect(result.items[0]!.memory.content).toBe("Carol's refund window is 90 days.");
  });

  it('invalidateContextCache is admin-only', async () => {
    const { memberKey } = await createOrgWithKeys(
      {
        ...first,
        gql: (q: string, v?: Record<string, unknown>, k?: string | null) => postGraphQL(first.url, q, v, k),
      } as TestStack,
      'cache-org-2',
    );
    const refused = await postGraphQL(first.url, `mutation { invalidateContextCache }`, {}, memberKey);
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
