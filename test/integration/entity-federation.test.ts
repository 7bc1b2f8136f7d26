import { openSubgraphDatabase } from '../../common/db/data-source';
import { IDENTITY_HEADER, signIdentity } from '../../common/identity';
import { startSubgraphServer, type RunningServer } from '../../common/subgraph-server';
import { createEntitySubgraph, type EntitySubgraph } from '../../subgraphs/entity';
import type { GraphStore } from '../../subgraphs/entity/graph/graph-store';
import { ENTITY_DATABASE, PostgresGraphStore } from '../../subgraphs/entity/graph/postgres-graph-store';
import { LocalSentenceEmbedder } from '../../subgraphs/memory/embedding/local-sentence-embedder';
import { loadConfig } from '../../common/config';
import { createTestDatabase, type TestDatabase } from '../support/database';

/**
 * STYLE 4: `_entities` with 50 representations must be one batch. The entity subgraph runs
 * on a real store wrapped to count calls per method; the request is the one the gateway
 * sends when a query selects `memory { entities }` for 50 memories.
 */
describe('entity subgraph federation batching', () => {
  const SECRET = 's'.repeat(32);
  let database: TestDatabase;
  let subgraph: EntitySubgraph;
  let server: RunningServer;
  let embedder: LocalSentenceEmbedder;
  const calls = new Map<string, number>();
  let close: () => Promise<void>;

  beforeAll(async () => {
    database = await createTestDatabase();
    const dataSource = await openSubgraphDatabase(database.target, ENTITY_DATABASE);
    const real = new PostgresGraphStore(dataSource);
    const counting = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as GraphStore;
    embedder = await LocalSentenceEmbedder.create();
    subgraph = await createEntitySubgraph({
      config: loadConfig({ NODE_ENV: 'test' }),
      database: database.target,
      graphStore: counting,
      embedder,
    });
    server = await startSubgraphServer(subgraph, { host: '127.0.0.1', port: 0, internalSecret: SECRET });
    close = async () => {
      await server.close();
      await embedder.close();
      await dataSource.destroy();
      await database.close();
    };
  });
  afterAll(() => close?.());

  it('resolves Memory.entities for 50 representations with one store call', async () => {
    const resolved = await subgraph.entities.resolve('org-a', [
      {
        key: 'k',
        scope: { level: 'ORG', id: 'org-a' },
        chain: [{ level: 'ORG', id: 'org-a' }],
        mentions: [
          { name: 'Product X', type: 'PRODUCT' },
          { name: 'Slack', type: 'PRODUCT' },
        ],
      },
    ]);
    const [product, slack] = resolved.get('k')!;
    const memoryIds = Array.from(
      { length: 50 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    await subgraph.entities.link(
      'org-a',
      memoryIds.map((memoryId, i) => ({
        memoryId,
        memoryScope: { level: 'ORG', id: 'org-a' },
        entityIds: i % 2 === 0 ? [product!, slack!] : [slack!],
      })),
    );
    calls.clear();

    const response = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: signIdentity({ kind: 'key', keyId: 'k1', orgId: 'org-a', role: 'member' }, SECRET),
      },
      body: JSON.stringify({
        query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Memory { id entities { name } } } }`,
        variables: { r: memoryIds.map((id) => ({ __typename: 'Memory', id, orgId: 'org-a' })) },
      }),
    });
    const body = (await response.json()) as {
      data: { _entities: Array<{ id: string; entities: Array<{ name: string }> }> };
    };
    expect(body.data._entities).toHaveLength(50);
    expect(body.data._entities[0]!.entities.map((e) => e.name).sort()).toEqual(['Product X', 'Slack']);
    expect(body.data._entities[1]!.entities.map((e) => e.name)).toEqual(['Slack']);
    expect(calls.get('entitiesOfMemories')).toBe(1);
    expect([...calls.values()].reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('returns no entities for representations of another org', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [IDENTITY_HEADER]: signIdentity({ kind: 'key', keyId: 'k2', orgId: 'org-b', role: 'admin' }, SECRET),
      },
      body: JSON.stringify({
        query: `query($r: [_Any!]!) { _entities(representations: $r) { ... on Memory { id entities { name } } } }`,
        variables: {
          r: [{ __typename: 'Memory', id: '00000000-0000-4000-8000-000000000000', orgId: 'org-a' }],
        },
      }),
    });
    const body = (await response.json()) as { data: { _entities: Array<{ entities: unknown[] }> } };
    expect(body.data._entities[0]!.entities).toEqual([]);
  });
});
