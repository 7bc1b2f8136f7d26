import neo4j, { DateTime, Driver, Session } from 'neo4j-driver';
import { randomUUID } from 'node:crypto';
import { BadUserInputError } from '../../common/errors';
import { ENTITY_TYPES, type EntityType, type Scope } from '../../subgraphs/entity/graph/graph-store';
import {
  CYPHER,
  Neo4jGraphStore,
  assertEntityType,
  assertRelationshipType,
  countOf,
  entityKey,
  fromNeo4j,
  memoryKey,
  scopeKey,
  toDate,
  toNumber,
  withEntityTypeLabel,
  withRelationshipType,
} from '../../subgraphs/entity/graph/neo4j-graph-store';
import { neo4jSettings, neo4jTarget, type Neo4jBackend } from '../support/neo4j-target';

/**
 * The Neo4j adapter's own tests. The first part needs no server (value conversion, the
 * whitelists, the checks that run before the driver is touched, behaviour without a server);
 * the second talks to the Neo4j at NEO4J_URL and is listed test by test as skipped when it is
 * not set. The adapter's behaviour as a GraphStore is graph-store.contract.test.ts.
 */

const ORG: Scope = { level: 'ORG', id: 'org-1' };
/** Nothing listens on the discard port: any query fails with a connection error. */
const NO_SERVER = { url: 'bolt://127.0.0.1:9', user: 'neo4j', password: 'unused' };

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('value conversion', () => {
  it('64-bit Integers become numbers; beyond the safe range they are refused, not rounded', () => {
    expect(toNumber(neo4j.int(42))).toBe(42);
    expect(toNumber(neo4j.int(-7))).toBe(-7);
    expect(toNumber(neo4j.int(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toNumber(neo4j.int('9007199254740993'))).toThrow(RangeError);
    expect(toNumber(12.5)).toBe(12.5);
    expect(toNumber(5n)).toBe(5);
    expect(() => toNumber(2n ** 60n)).toThrow(RangeError);
    expect(() => toNumber('12')).toThrow(TypeError);
    expect(() => toNumber(null)).toThrow(TypeError);
  });

  it('DateTimes become Dates at the same instant, whatever their offset', () => {
    const utc = new DateTime(2030, 1, 2, 3, 4, 5, 6_000_000, 0);
    expect(toDate(utc)).toEqual(new Date('2030-01-02T03:04:05.006Z'));
    const plusTwo = new DateTime(2030, 1, 2, 5, 4, 5, 6_000_000, 7200);
    expect(toDate(plusTwo)).toEqual(new Date('2030-01-02T03:04:05.006Z'));
    const fromDate = DateTime.fromStandardDate(new Date('2031-05-06T07:08:09.010Z'));
    expect(toDate(fromDate).toISOString()).toBe('2031-05-06T07:08:09.010Z');
    const date = new Date();
    expect(toDate(date)).toBe(date);
    expect(() => toDate('2030-01-02')).toThrow(TypeError);
    expect(() => toDate(neo4j.int(1))).toThrow(TypeError);
  });

  it('fromNeo4j converts deeply (lists and maps) and leaves other values alone', () => {
    const converted = fromNeo4j({
      count: neo4j.int(3),
      when: new DateTime(2030, 1, 1, 0, 0, 0, 0, 0),
      list: [neo4j.int(1), { nested: neo4j.int(2) }, 'text', null],
      flag: true,
    });
    expect(converted).toEqual({
      count: 3,
      when: new Date('2030-01-01T00:00:00.000Z'),
      list: [1, { nested: 2 }, 'text', null],
      flag: true,
    });
    expect(JSON.stringify(converted)).not.toMatch(/"low"|"high"/);
  });

  it('countOf reads an aggregation column: 0 without a row', () => {
    expect(countOf({ get: () => neo4j.int(4) }, 'n')).toBe(4);
    expect(countOf({ get: () => null }, 'n')).toBe(0);
    expect(countOf(undefined, 'n')).toBe(0);
  });
});

describe('whitelists', () => {
  it('every ENTITY_TYPES value is a label; anything else is BAD_USER_INPUT', () => {
    for (const type of ENTITY_TYPES) {
      expect(() => assertEntityType(type)).not.toThrow();
      const statement = withEntityTypeLabel(CYPHER.upsertEntities, type);
      expect(statement).toContain(`SET e:\`${type}\``);
      expect(statement).not.toContain('__ENTITY_TYPE__');
    }
    for (const type of ['person', 'USER', 'PERSON:Admin', 'PERSON`) DETACH DELETE e //', '', null, 3]) {
      expect(() => assertEntityType(type)).toThrow(BadUserInputError);
      expect(() => withEntityTypeLabel(CYPHER.upsertEntities, type)).toThrow(BadUserInputError);
    }
  });

  it('relationship types follow RELATIONSHIP_TYPE; anything else is BAD_USER_INPUT', () => {
    for (const type of ['KNOWS', 'A', 'PART_OF', 'X1', `K${'N'.repeat(49)}`]) {
      expect(() => assertRelationshipType(type)).not.toThrow();
      expect(withRelationshipType(CYPHER.upsertRelationships, type)).toContain(`[r:\`${type}\`]`);
    }
    for (const type of [
      'KNOWS]->(x) DETACH DELETE x //',
      'KNOWS`]->(x) DETACH DELETE x //',
      'knows',
      '_KNOWS',
      '1KNOWS',
      'KNOWS ',
      `K${'N'.repeat(50)}`,
      '',
      undefined,
    ]) {
      expect(() => assertRelationshipType(type)).toThrow(BadUserInputError);
      expect(() => withRelationshipType(CYPHER.upsertRelationships, type)).toThrow(BadUserInputError);
    }
  });

  it('a statement without the placeholder cannot be given a label or type', () => {
    expect(() => withEntityTypeLabel(CYPHER.getEntities, 'PERSON')).toThrow(/no entity type placeholder/);
    expect(() => withRelationshipType(CYPHER.getEntities, 'KNOWS')).toThrow(
      /no relationship type placeholder/,
    );
  });
});

describe('keys', () => {
  it('the composite entity key tells apart values a separator would confuse', () => {
    const a = entityKey('org', { level: 'ORG', id: 'a|b' }, 'TERM', 'c');
    const b = entityKey('org', { level: 'ORG', id: 'a' }, 'TERM', 'b|c');
    const c = entityKey('org', { level: 'ORG', id: 'a","b' }, 'TERM', 'c');
    expect(new Set([a, b, c]).size).toBe(3);
    expect(entityKey('org', ORG, 'PRODUCT', 'product x')).toBe(entityKey('org', ORG, 'PRODUCT', 'product x'));
    expect(entityKey('org', ORG, 'PRODUCT', 'x')).not.toBe(entityKey('org', ORG, 'PERSON', 'x'));
    expect(entityKey('org-a', ORG, 'PRODUCT', 'x')).not.toBe(entityKey('org-b', ORG, 'PRODUCT', 'x'));
    expect(memoryKey('org-a', 'm')).not.toBe(memoryKey('org-b', 'm'));
    expect(scopeKey({ level: 'ACTOR', id: "a' OR '1'='1" })).toBe("ACTOR:a' OR '1'='1");
  });
});

describe('Neo4jGraphStore without a server', () => {
  let store: Neo4jGraphStore;
  let session: jest.SpyInstance;

  beforeEach(() => {
    session = jest.spyOn(Driver.prototype, 'session');
    store = new Neo4jGraphStore(NO_SERVER);
  });
  afterEach(async () => {
    await store.close();
    jest.restoreAllMocks();
  });

  it('construction connects to nothing; init() then fails at once with a readable error', async () => {
    expect(session).not.toHaveBeenCalled();
    const started = Date.now();
    const error = await rejection(store.init());
    expect((error as Error).message).toMatch(/^Neo4j at bolt:\/\/127\.0\.0\.1:9 is not reachable: /);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('ping() fails at once (no retries for 30 s), through one session that is closed', async () => {
    const close = jest.spyOn(Session.prototype, 'close');
    const started = Date.now();
    const error = await rejection(store.ping());
    expect((error as { code?: string }).code).toBe('ServiceUnavailable');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(session).toHaveBeenCalledTimes(1);
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('invalid input is BAD_USER_INPUT before any session is opened', async () => {
    const id = randomUUID();
    const bad: Array<() => Promise<unknown>> = [
      () => store.upsertEntities('org', [{ scope: ORG, name: '   ', type: 'TERM' }]),
      () => store.upsertEntities('org', [{ scope: ORG, name: 'x'.repeat(501), type: 'TERM' }]),
      () =>
        store.upsertEntities('org', [
          { scope: { level: 'GALAXY' as 'ORG', id: 'x' }, name: 'Ann', type: 'PERSON' },
        ]),
      () => store.upsertEntities('org', [{ scope: { level: 'ORG', id: '' }, name: 'Ann', type: 'PERSON' }]),
      () => store.upsertEntities('org', [{ scope: ORG, name: 'Ann', type: 'ALIEN' as EntityType }]),
      () => store.upsertEntities('', [{ scope: ORG, name: 'Ann', type: 'PERSON' }]),
      () => store.upsertRelationships('org', [{ fromId: 'a', toId: id, type: 'KNOWS' }]),
      () => store.upsertRelationships('org', [{ fromId: id, toId: id, type: 'KNOWS', memoryId: 'm-1' }]),
      () => store.linkMentions('org', [{ entityId: id, memoryId: 'not-a-uuid', memoryScope: ORG }]),
      () =>
        store.linkMentions('org', [{ entityId: id, memoryId: id, memoryScope: { level: 'ORG', id: '' } }]),
      () => store.findEntities('org', { first: -1 }),
      () => store.findEntities('org', { first: 10_001 }),
      () => store.findEntities('org', { first: 1.5 }),
      () => store.findEntities('org', { first: 10, type: 'ALIEN' as EntityType }),
      () => store.neighbours('org', id, 0, [ORG]),
      () => store.neighbours('org', id, 4, [ORG]),
      () => store.neighbours('org', id, 1.5, [ORG]),
      () => store.resolveNames('org', ['x'], [{ level: 'ORG', id: '' }]),
      () => store.deleteByActor('org', ''),
      () => store.deleteScope('org', { level: 'NOPE' as 'ORG', id: 'x' }),
      () => store.deleteOrg(''),
    ];
    for (const [index, call] of bad.entries()) {
      const error = await rejection(call());
      if (!(error instanceof BadUserInputError)) throw new Error(`case ${index}: ${String(error)}`);
      expect(error.code).toBe('BAD_USER_INPUT');
    }
    expect(session).not.toHaveBeenCalled();
  });

  it('requests that can name nothing answer without a session', async () => {
    expect(await store.upsertEntities('org', [])).toEqual([]);
    expect(await store.upsertRelationships('org', [])).toEqual([]);
    await store.linkMentions('org', []);
    expect(await store.getEntities('org', ['not-a-uuid'])).toEqual([]);
    expect(await store.findEntities('org', { first: 0 })).toEqual([]);
    expect(await store.findEntities('org', { first: 10, scopes: [] })).toEqual([]);
    expect(await store.resolveNames('org', ['x', '  '], [])).toEqual(
      new Map([
        ['x', []],
        ['  ', []],
      ]),
    );
    expect(await store.neighbours('org', 'not-a-uuid', 2, [ORG])).toEqual({
      entities: [],
      relationships: [],
    });
    expect(await store.shortestPath('org', 'a', 'b', [ORG])).toBeNull();
    expect(await store.mentionsOf('org', ['not-a-uuid'])).toEqual(new Map([['not-a-uuid', []]]));
    expect(await store.entitiesOfMemories('org', [])).toEqual(new Map());
    expect(await store.deleteByMemories('org', ['not-a-uuid'])).toBe(0);
    expect(session).not.toHaveBeenCalled();
  });
});

// ---- against a real Neo4j (NEO4J_URL) ---------------------------------------------------------

const target = neo4jTarget();
/** `it`, or a visible skip saying why when no Neo4j is configured. */
const serverTest = (name: string, fn: () => Promise<void>) =>
  target ? it(name, fn) : it.skip(`${name} (skipped: NEO4J_URL not set)`, fn);

describe('Neo4jGraphStore against NEO4J_URL', () => {
  if (!target) {
    it('server target: not configured (set NEO4J_URL to run the tests below)', () => {
      expect(process.env.NEO4J_URL ?? '').toBe('');
      expect(neo4jSettings()).toBeUndefined();
      expect(neo4jTarget()).toBeUndefined();
    });
  }

  let backend: Neo4jBackend;
  let raw: ReturnType<typeof neo4j.driver>;

  if (target) {
    beforeAll(async () => {
      backend = await target.start();
      const settings = neo4jSettings()!;
      raw = neo4j.driver(settings.url, neo4j.auth.basic(settings.user, settings.password));
    });
    afterAll(async () => {
      await raw?.close();
      await backend?.close();
    });
  }

  /** A test-only query on a driver of the test's own (never through the adapter). */
  async function query(statement: string, params: Record<string, unknown> = {}) {
    const { records } = await raw.executeQuery(statement, params);
    return records.map((record) => fromNeo4j(record.toObject()) as Record<string, unknown>);
  }

  serverTest('init() created the constraints and indexes, and running it again is harmless', async () => {
    const store = new Neo4jGraphStore(neo4jSettings()!);
    try {
      await store.init();
    } finally {
      await store.close();
    }
    const constraints = await query('SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties, type');
    expect(constraints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'entity_key', labelsOrTypes: ['Entity'], properties: ['key'] }),
        expect.objectContaining({ name: 'entity_id', labelsOrTypes: ['Entity'], properties: ['id'] }),
        expect.objectContaining({ name: 'memory_key', labelsOrTypes: ['Memory'], properties: ['key'] }),
      ]),
    );
    const indexes = await query('SHOW INDEXES YIELD name, state');
    for (const name of ['entity_org_scope', 'entity_name_value', 'memory_org_scope', 'mention_created']) {
      expect(indexes).toContainEqual({ name, state: 'ONLINE' });
    }
  });

  serverTest('entity types are labels and relationship types are relationship types', async () => {
    const store = await backend.connect();
    const orgId = `org-${randomUUID()}`;
    const org: Scope = { level: 'ORG', id: orgId };
    const [product, person] = await store.upsertEntities(orgId, [
      { scope: org, name: 'Product X', type: 'PRODUCT' },
      { scope: org, name: 'Ann', type: 'PERSON' },
    ]);
    await store.upsertRelationships(orgId, [{ fromId: person!.id, toId: product!.id, type: 'USES' }]);
    const [row] = await query(
      'MATCH (a:Entity {id: $from})-[r]->(b:Entity {id: $to}) RETURN labels(a) AS from, labels(b) AS to, type(r) AS type',
      { from: person!.id, to: product!.id },
    );
    expect(row).toEqual({
      from: expect.arrayContaining(['Entity', 'PERSON']),
      to: expect.arrayContaining(['Entity', 'PRODUCT']),
      type: 'USES',
    });
  });

  serverTest('what the store returns is plain JS: numbers and Dates, no driver types', async () => {
    const store = await backend.connect();
    const orgId = `org-${randomUUID()}`;
    const org: Scope = { level: 'ORG', id: orgId };
    const [a, b] = await store.upsertEntities(orgId, [
      { scope: org, name: 'A', type: 'TERM' },
      { scope: org, name: 'B', type: 'TERM' },
    ]);
    const memoryId = randomUUID();
    const [relationship] = await store.upsertRelationships(orgId, [
      { fromId: a!.id, toId: b!.id, type: 'NEXT', memoryId },
    ]);
    await store.linkMentions(orgId, [{ entityId: a!.id, memoryId, memoryScope: org }]);
    expect(a!.createdAt).toBeInstanceOf(Date);
    expect(relationship!.createdAt).toBeInstanceOf(Date);
    const neighbours = await store.neighbours(orgId, a!.id, 1, [org]);
    for (const value of [a, relationship, neighbours]) {
      expect(JSON.stringify(value)).not.toMatch(/"low"|"high"|"nanosecond"/);
    }
    const removed = await store.deleteByMemories(orgId, [memoryId]);
    expect(typeof removed).toBe('number');
    expect(removed).toBe(1);
  });

  serverTest('a hostile relationship type never reaches the server: the graph is unchanged', async () => {
    const store = await backend.connect();
    const orgId = `org-${randomUUID()}`;
    const org: Scope = { level: 'ORG', id: orgId };
    const [a, b] = await store.upsertEntities(orgId, [
      { scope: org, name: 'A', type: 'TERM' },
      { scope: org, name: 'B', type: 'TERM' },
    ]);
    const count = async () =>
      (
        await query('MATCH (n) WHERE n.orgId = $orgId RETURN count(n) AS n', {
          orgId: backend.prefix + orgId,
        })
      )[0]!.n;
    const before = await count();
    expect(before).toBeGreaterThan(0);
    const error = await rejection(
      store.upsertRelationships(orgId, [
        { fromId: a!.id, toId: b!.id, type: 'KNOWS]->(x) DETACH DELETE x //' },
      ]),
    );
    expect(error).toBeInstanceOf(BadUserInputError);
    expect(await count()).toBe(before);
  });
});
