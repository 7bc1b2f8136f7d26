import fs from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import type { FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { RunningServer } from '../../common/subgraph-server';
import { startGateway } from '../../gateway';
import { FIXTURE_SDL, startFixtureSubgraph, type RunningFixtureSubgraph } from '../support/fixture-subgraph';
import { createOrgWithKeys, startTestStack, type TestStack } from '../support/stack';

const HIERARCHY_SDL = fs.readFileSync(path.resolve(__dirname, '../../schema/hierarchy.graphql'), 'utf8');

type Tick = { ticks: { n: number; orgId: string | null } };

describe('subscriptions through the gateway', () => {
  let stack: TestStack;
  let fixture: RunningFixtureSubgraph;
  let gateway: RunningServer;
  let wsUrl: string;
  let supergraphSdl: string;
  let memberKey: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    stack = await startTestStack();
    ({ memberKey } = await createOrgWithKeys(stack, 'sub-org-a'));
    fixture = await startFixtureSubgraph(stack.internalSecret);
    const composed = composeServices([
      { name: 'hierarchy', url: stack.subgraphUrls.hierarchy!, typeDefs: parse(HIERARCHY_SDL) },
      { name: 'fixture', url: fixture.url, typeDefs: parse(FIXTURE_SDL) },
    ]);
    if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join('\n'));
    supergraphSdl = composed.supergraphSdl;
    gateway = await startGateway({
      host: '127.0.0.1',
      port: 0,
      supergraphSdl,
      subgraphUrls: { hierarchy: stack.subgraphUrls.hierarchy!, fixture: fixture.url },
      internalSecret: stack.internalSecret,
      authCacheTtlMs: 2000,
    });
    wsUrl = gateway.url.replace(/^http/, 'ws');
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    await gateway?.close();
    await fixture?.close();
    await stack?.close();
  });

  function connect(connectionParams: Record<string, unknown> | undefined): {
    client: Client;
    closed: Promise<{ code: number; reason: string }>;
  } {
    let onClosed!: (event: { code: number; reason: string }) => void;
    const closed = new Promise<{ code: number; reason: string }>((resolve) => (onClosed = resolve));
    const client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
      lazy: true,
      on: {
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          onClosed({ code, reason: String(reason) });
        },
      },
    });
    clients.push(client);
    return { client, closed };
  }

  /** Collects every result of one operation until it completes, or the error it ends with. */
  async function collect<T>(
    client: Client,
    query: string,
  ): Promise<{ results: FormattedExecutionResult<T, unknown>[]; error?: unknown }> {
    const results: FormattedExecutionResult<T, unknown>[] = [];
    try {
      for await (const result of client.iterate<T>({ query })) results.push(result);
      return { results };
    } catch (error) {
      return { results, error };
    }
  }

  it('forwards a subscription to the owning subgraph with the caller identity, then completes', async () => {
    const { client } = connect({ Authorization: `Bearer ${memberKey}` });
    const finishedBefore = fixture.state.finished.length;

    const { results, error } = await collect<Tick>(client, 'subscription { ticks(count: 3) { n orgId } }');

    expect(error).toBeUndefined();
    expect(results).toEqual([
      { data: { ticks: { n: 1, orgId: 'sub-org-a' } } },
      { data: { ticks: { n: 2, orgId: 'sub-org-a' } } },
      { data: { ticks: { n: 3, orgId: 'sub-org-a' } } },
    ]);
    await fixture.waitForFinished(finishedBefore + 1);
    expect(fixture.state.finished[finishedBefore]).toEqual({ emitted: 3, completed: true });
    expect(fixture.state.identities.at(-1)).toMatchObject({
      kind: 'key',
      orgId: 'sub-org-a',
      role: 'member',
    });
  });

  it('accepts the key in connectionParams.headers too', async () => {
    const { client } = connect({ headers: { authorization: `Bearer ${memberKey}` } });
    const { results, error } = await collect<Tick>(client, 'subscription { ticks(count: 1) { n orgId } }');
    expect(error).toBeUndefined();
    expect(results).toEqual([{ data: { ticks: { n: 1, orgId: 'sub-org-a' } } }]);
  });

  it.each([
    ['no connection params', undefined],
    ['no key', {}],
    ['an invalid key', { Authorization: 'Bearer msy_thisKeyDoesNotExist0000000000' }],
    ['a malformed authorization', { Authorization: memberKeyPlaceholder() }],
  ])('refuses the connection with %s (close code 4403)', async (_label, params) => {
    const subscriptionsBefore = fixture.state.identities.length;
    const { client, closed } = connect(params);

    const { results, error } = await collect<Tick>(client, 'subscription { ticks(count: 1) { n } }');

    expect(results).toEqual([]);
    expect(error).toBeDefined();
    expect(await closed).toMatchObject({ code: 4403 });
    expect(fixture.state.identities.length).toBe(subscriptionsBefore);
  });

  it('executes queries sent over the websocket in the gateway, with the caller identity', async () => {
    const { client } = connect({ Authorization: `Bearer ${memberKey}` });
    const { results, error } = await collect<{
      viewer: { orgId: string; role: string };
      fixturePing: string;
    }>(client, '{ viewer { orgId role } fixturePing }');
    expect(error).toBeUndefined();
    expect(results).toEqual([
      { data: { viewer: { orgId: 'sub-org-a', role: 'member' }, fixturePing: 'pong' } },
    ]);
  });

  it('runs mutations over the websocket with the caller identity, errors as GraphQL errors', async () => {
    const { client } = connect({ Authorization: `Bearer ${memberKey}` });
    const { results, error } = await collect(
      client,
      'mutation { createOrg(input: { orgId: "sub-org-b", name: "B", focus: "anything" }) { orgId } }',
    );
    expect(error).toBeUndefined();
    expect(results).toHaveLength(1);
    expect(results[0]!.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('passes on an error result of the subgraph (refused subscription) and completes', async () => {
    const { client } = connect({ Authorization: `Bearer ${memberKey}` });
    const { results, error } = await collect<Tick>(client, 'subscription { ticks(count: -1) { n } }');
    expect(error).toBeUndefined();
    expect(results).toHaveLength(1);
    expect(results[0]!.data ?? null).toBeNull();
    expect(results[0]!.errors).toEqual([
      expect.objectContaining({
        message: 'count must not be negative',
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }),
      }),
    ]);
  });

  it('reports a subgraph stream failure as an error result, after the events before it', async () => {
    const { client } = connect({ Authorization: `Bearer ${memberKey}` });
    const { results, error } = await collect<Tick>(
      client,
      'subscription { ticks(count: 5, failAt: 3) { n } }',
    );
    expect(error).toBeUndefined();
    expect(results.slice(0, 2)).toEqual([{ data: { ticks: { n: 1 } } }, { data: { ticks: { n: 2 } } }]);
    expect(results).toHaveLength(3);
    expect(results[2]!.errors).toHaveLength(1);
    expect(results[2]!.errors![0]!.message).toContain('tick 3 failed');
    expect(results[2]!.errors![0]!.extensions?.code).toBe('UPSTREAM_ERROR');
  });

  it('masks unexpected subgraph errors on the websocket as on HTTP', async () => {
    const { client } = connect({ Authorization: `Bearer ${memberKey}` });
    const { results } = await collect<Tick>(client, 'subscription { ticks(count: 3, failAt: -2) { n } }');
    expect(results).toHaveLength(2);
    expect(results[1]!.errors![0]!.message).toBe('Internal server error');
    expect(results[1]!.errors![0]!.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(results)).not.toContain('secret internals');
  });

  it('reports validation errors of a subscription against the gateway schema', async () => {
    const { client } = connect({ Authorization: `Bearer ${memberKey}` });
    const { results, error } = await collect(client, 'subscription { ticks(count: 1) { nope } }');
    expect(results).toEqual([]);
    expect(error).toEqual([expect.objectContaining({ message: expect.stringContaining('nope') })]);
  });

  it('stops the subgraph resolver when the client unsubscribes early', async () => {
    const { client } = connect({ Authorization: `Bearer ${memberKey}` });
    const finishedBefore = fixture.state.finished.length;
    const received: unknown[] = [];

    await new Promise<void>((resolve, reject) => {
      const unsubscribe = client.subscribe<Tick>(
        { query: 'subscription { ticks(count: 1000) { n orgId } }' },
        {
          next: (result) => {
            received.push(result);
            if (received.length === 1) {
              unsubscribe();
              resolve();
            }
          },
          error: reject,
          complete: () => {},
        },
      );
    });

    await fixture.waitForFinished(finishedBefore + 1);
    const finished = fixture.state.finished[finishedBefore]!;
    expect(finished.completed).toBe(false);
    expect(finished.emitted).toBeLessThan(10);
    expect(received).toEqual([{ data: { ticks: { n: 1, orgId: 'sub-org-a' } } }]);
    expect(fixture.state.active).toBe(0);
  });

  it('stops the subgraph resolver when the client connection drops', async () => {
    const { client, closed } = connect({ Authorization: `Bearer ${memberKey}` });
    const finishedBefore = fixture.state.finished.length;

    await new Promise<void>((resolve, reject) => {
      client.subscribe<Tick>(
        { query: 'subscription { ticks(count: 1000) { n } }' },
        { next: () => resolve(), error: reject, complete: () => {} },
      );
    });
    await client.dispose();
    await closed;

    await fixture.waitForFinished(finishedBefore + 1);
    expect(fixture.state.finished[finishedBefore]!.completed).toBe(false);
    expect(fixture.state.active).toBe(0);
  });
  it('ends active subscriptions, upstream included, when the gateway closes', async () => {
    const second = await startGateway({
      host: '127.0.0.1',
      port: 0,
      supergraphSdl: supergraphSdl,
      subgraphUrls: { hierarchy: stack.subgraphUrls.hierarchy!, fixture: fixture.url },
      internalSecret: stack.internalSecret,
      authCacheTtlMs: 2000,
    });
    const client = createClient({
      url: second.url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      connectionParams: { Authorization: `Bearer ${memberKey}` },
      retryAttempts: 0,
    });
    clients.push(client);
    const finishedBefore = fixture.state.finished.length;
    let ended!: (outcome: string) => void;
    const outcome = new Promise<string>((resolve) => (ended = resolve));
    await new Promise<void>((resolve) => {
      client.subscribe<Tick>(
        { query: 'subscription { ticks(count: 1000) { n } }' },
        { next: () => resolve(), error: () => ended('error'), complete: () => ended('complete') },
      );
    });

    await second.close();

    expect(await outcome).toBe('error');
    await fixture.waitForFinished(finishedBefore + 1);
    expect(fixture.state.finished[finishedBefore]!.completed).toBe(false);
    expect(fixture.state.active).toBe(0);
  });
});

/** A value that is not a bearer token at all. */
function memberKeyPlaceholder(): string {
  return 'Basic dXNlcjpwYXNz';
}
