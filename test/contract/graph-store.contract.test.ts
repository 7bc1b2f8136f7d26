import { randomUUID } from 'node:crypto';
import { BadUserInputError } from '../../common/errors';
import {
  ENTITY_TYPES,
  normalizeName,
  type Entity,
  type EntityInput,
  type EntityType,
  type GraphStore,
  type Relationship,
  type Scope,
  type Subgraph,
} from '../../subgraphs/entity/graph/graph-store';
import { PostgresGraphStore } from '../../subgraphs/entity/graph/postgres-graph-store';
import {
  DATABASE_TARGETS,
  reportServerTarget,
  unique,
  type DatabaseTargetFactory,
} from '../support/database';
import { neo4jTarget } from '../support/neo4j-target';

/**
 * Contract suite of the GraphStore port (subgraphs/entity/graph/graph-store.ts), run against
 * every adapter in ADAPTERS below. Each test works in orgs of its own, so tests never see each
 * other's entities.
 */

/** A graph backend started for this file; connect() gives a store on connections of its own. */
interface GraphStoreBackend {
  connect(): Promise<GraphStore>;
  close(): Promise<void>;
}
interface GraphStoreTarget {
  start(): Promise<GraphStoreBackend>;
}

// ============================================================================================
// ADAPTERS. To run the contract against another GraphStore adapter, add an entry here:
// `target` starts its backend, or is undefined when the backend is not configured (every test
// of that adapter is then reported as skipped, with `skipReason` in its name).
// ============================================================================================
const ADAPTERS: Array<{ name: string; target: GraphStoreTarget | undefined; skipReason: string }> = [
  // Tables + recursive CTEs: always the embedded Postgres, and a server when DATABASE_URL is set.
  ...DATABASE_TARGETS.map((database) => ({
    name: `PostgresGraphStore on ${database.name}`,
    target: postgresTarget(database),
    skipReason: '',
  })),
  // Neo4j whenever NEO4J_URL is set (test/support/neo4j-target.ts).
  { name: 'Neo4jGraphStore (NEO4J_URL)', target: neo4jTarget(), skipReason: 'NEO4J_URL not set' },
];

function postgresTarget(database: DatabaseTargetFactory): GraphStoreTarget {
  return {
    start: async () => {
      const opened = await database.open();
      const stores: GraphStore[] = [];
      return {
        connect: async () => {
          // Its own DataSource: its own connection (pool) to the same database.
          const store = await PostgresGraphStore.open(opened.target);
          stores.push(store);
          return store;
        },
        close: async () => {
          for (const store of stores) await store.close();
          await opened.close();
        },
      };
    },
  };
}

reportServerTarget('GraphStore contract');

// ---- fixtures ------------------------------------------------------------------------

const ORG = (orgId: string): Scope => ({ level: 'ORG', id: orgId });
const TEAM = (id: string): Scope => ({ level: 'TEAM', id });
const ACTOR = (id: string): Scope => ({ level: 'ACTOR', id });

function entity(scope: Scope, name: string, type: EntityType = 'TERM', aliases?: string[]): EntityInput {
  return { scope, name, type, ...(aliases ? { aliases } : {}) };
}

const ids = (entities: readonly { id: string }[]) => entities.map((e) => e.id);
const sortedIds = (entities: readonly { id: string }[]) => ids(entities).sort();

/** Seeded PRNG (Park-Miller), so the generated graphs are the same on every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => (state = (state * 48271) % 2147483647) / 2147483647;
}

/** Distances from `from` in an undirected graph, entering only `allowed` nodes (the reference BFS). */
function bfs(
  from: string,
  edges: readonly [string, string][],
  allowed: (id: string) => boolean,
  maxDepth: number,
): Map<string, number> {
  const adjacent = new Map<string, string[]>();
  for (const [a, b] of edges) {
    adjacent.set(a, [...(adjacent.get(a) ?? []), b]);
    adjacent.set(b, [...(adjacent.get(b) ?? []), a]);
  }
  const distance = new Map<string, number>();
  if (!allowed(from)) return distance;
  distance.set(from, 0);
  let frontier = [from];
  for (let depth = 1; depth <= maxDepth && frontier.length > 0; depth++) {
    const next: string[] = [];
    for (const id of frontier)
      for (const neighbour of adjacent.get(id) ?? [])
        if (!distance.has(neighbour) && allowed(neighbour)) {
          distance.set(neighbour, depth);
          next.push(neighbour);
        }
    frontier = next;
  }
  return distance;
}

/** A path is a chain: relationships[i] joins entities[i] and entities[i + 1], in either direction. */
function expectChain(path: Subgraph, fromId: string, toId: string): void {
  expect(path.entities[0]!.id).toBe(fromId);
  expect(path.entities.at(-1)!.id).toBe(toId);
  expect(path.relationships).toHaveLength(path.entities.length - 1);
  path.relationships.forEach((relationship, i) => {
    expect([relationship.fromId, relationship.toId].sort()).toEqual(
      [path.entities[i]!.id, path.entities[i + 1]!.id].sort(),
    );
  });
  expect(new Set(ids(path.entities)).size).toBe(path.entities.length);
}

/** Every relationship of a subgraph joins two of its entities. */
function expectClosed(graph: Subgraph): void {
  const inside = new Set(ids(graph.entities));
  for (const relationship of graph.relationships) {
    expect(inside.has(relationship.fromId)).toBe(true);
    expect(inside.has(relationship.toId)).toBe(true);
  }
}

async function expectBadInput(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(BadUserInputError);
  expect((error as BadUserInputError).code).toBe('BAD_USER_INPUT');
}

// ---- the contract ----------------------------------------------------------------------

for (const adapter of ADAPTERS) {
  describe(`GraphStore contract: ${adapter.name}`, () => {
    const configured = adapter.target !== undefined;
    /** `it`, or a visible skip saying why when the adapter's backend is not configured. */
    const contractTest = (name: string, fn: () => Promise<void>, timeout?: number) =>
      configured ? it(name, fn, timeout) : it.skip(`${name} (skipped: ${adapter.skipReason})`, fn);

    let backend: GraphStoreBackend;
    let store: GraphStore;

    if (configured) {
      beforeAll(async () => {
        backend = await adapter.target!.start();
        try {
          store = await backend.connect();
        } catch (error) {
          await backend.close();
          throw error;
        }
      });
      afterAll(async () => {
        await backend?.close();
      });
    }

    /** A fresh org and the usual scopes of one of its actors. */
    function tenant() {
      const orgId = unique('org');
      const teamId = unique('team');
      const actorId = unique('actor');
      return {
        orgId,
        org: ORG(orgId),
        team: TEAM(teamId),
        actor: ACTOR(actorId),
        otherActor: ACTOR(unique('actor')),
        otherTeam: TEAM(unique('team')),
        /** The scope chain of `actor`, most specific first. */
        chain: [ACTOR(actorId), TEAM(teamId), ORG(orgId)],
      };
    }

    async function relate(orgId: string, pairs: Array<[Entity, Entity, string?]>): Promise<Relationship[]> {
      return store.upsertRelationships(
        orgId,
        pairs.map(([from, to, type]) => ({ fromId: from.id, toId: to.id, type: type ?? 'RELATED_TO' })),
      );
    }

    // ---- upserts -------------------------------------------------------------------

    describe('upserts', () => {
      contractTest(
        'upserting an entity twice gives the same entity; case and spacing of the name do not matter; aliases accumulate',
        async () => {
          const { orgId, org } = tenant();
          const [first] = await store.upsertEntities(orgId, [entity(org, 'Product X', 'PRODUCT', ['PX'])]);
          expect(first).toMatchObject({
            orgId,
            scope: org,
            name: 'Product X',
            normalizedName: 'product x',
            type: 'PRODUCT',
            aliases: ['PX'],
          });
          expect(first!.createdAt).toBeInstanceOf(Date);

          const [again] = await store.upsertEntities(orgId, [entity(org, 'Product X', 'PRODUCT', ['PX'])]);
          expect(again).toEqual(first);

          const [spelled] = await store.upsertEntities(orgId, [
            entity(org, '  product   X ', 'PRODUCT', ['Prod X', 'px', 'PRODUCT X']),
          ]);
          expect(spelled!.id).toBe(first!.id);
          expect(spelled!.name).toBe('Product X'); // the first spelling stays the name
          expect(spelled!.createdAt).toEqual(first!.createdAt);
          // 'px' is 'PX' again and 'PRODUCT X' is the name itself: neither is a new alias.
          expect([...spelled!.aliases].sort()).toEqual(['PX', 'Prod X']);

          const [third] = await store.upsertEntities(orgId, [
            entity(org, 'PRODUCT X', 'PRODUCT', ['X Suite']),
          ]);
          expect([...third!.aliases].sort()).toEqual(['PX', 'Prod X', 'X Suite']);
          expect(await store.getEntities(orgId, [first!.id])).toEqual([third]);
          expect(await store.findEntities(orgId, { first: 10 })).toHaveLength(1);
        },
      );

      contractTest(
        'entities are returned in input order, repeats included; scope and type are part of the identity',
        async () => {
          const { orgId, org, team } = tenant();
          const result = await store.upsertEntities(orgId, [
            entity(org, 'Apple', 'ORGANIZATION'),
            entity(org, 'Apple', 'PRODUCT'),
            entity(team, 'Apple', 'ORGANIZATION'),
            entity(org, 'APPLE', 'ORGANIZATION', ['Apple Inc.']),
            entity(org, 'Berlin', 'PLACE'),
          ]);
          expect(result.map((e) => [e.name, e.type, e.scope.level])).toEqual([
            ['Apple', 'ORGANIZATION', 'ORG'],
            ['Apple', 'PRODUCT', 'ORG'],
            ['Apple', 'ORGANIZATION', 'TEAM'],
            ['Apple', 'ORGANIZATION', 'ORG'],
            ['Berlin', 'PLACE', 'ORG'],
          ]);
          expect(new Set(ids(result)).size).toBe(4);
          expect(result[3]!.id).toBe(result[0]!.id);
          // Both occurrences carry the aliases the batch gave either of them.
          expect(result[0]!.aliases).toEqual(['Apple Inc.']);
          expect(result[3]!.aliases).toEqual(['Apple Inc.']);
          expect(await store.upsertEntities(orgId, [])).toEqual([]);
        },
      );

      contractTest(
        '10 concurrent upserts of one entity, on separate connections, give one entity with every alias',
        async () => {
          const { orgId, org } = tenant();
          const stores = await Promise.all(Array.from({ length: 10 }, () => backend.connect()));
          const results = await Promise.all(
            stores.map((connection, i) =>
              connection.upsertEntities(orgId, [
                entity(org, i % 2 ? 'Globex Corp' : 'globex  corp', 'ORGANIZATION', [`Globex ${i}`]),
                entity(org, `Other ${i}`, 'TERM'),
              ]),
            ),
          );
          const globex = new Set(results.map((pair) => pair[0]!.id));
          expect(globex.size).toBe(1);
          const [stored] = await store.getEntities(orgId, [...globex]);
          expect([...stored!.aliases].sort()).toEqual(
            Array.from({ length: 10 }, (_, i) => `Globex ${i}`).sort(),
          );
          const all = await store.findEntities(orgId, { first: 100 });
          expect(all).toHaveLength(11);
          expect(all.filter((e) => e.normalizedName === 'globex corp')).toHaveLength(1);

          // The same relationship learned concurrently from ten memories: one relationship.
          const [other] = await store.upsertEntities(orgId, [entity(org, 'Other 0', 'TERM')]);
          const memories = stores.map(() => randomUUID());
          const relationships = await Promise.all(
            stores.map((connection, i) =>
              connection.upsertRelationships(orgId, [
                { fromId: stored!.id, toId: other!.id, type: 'OWNS', memoryId: memories[i] },
              ]),
            ),
          );
          expect(new Set(relationships.map((list) => list[0]!.id)).size).toBe(1);
          // Every memory is a source: the relationship lives until the last one is deleted.
          await store.deleteByMemories(orgId, memories.slice(0, 9));
          expect((await store.neighbours(orgId, stored!.id, 1, [org])).relationships).toHaveLength(1);
          await store.deleteByMemories(orgId, memories.slice(9));
          expect((await store.neighbours(orgId, stored!.id, 1, [org])).relationships).toHaveLength(0);
        },
      );

      contractTest(
        'relationships are idempotent per (from, to, type) and need entities of the org at both ends',
        async () => {
          const { orgId, org } = tenant();
          const [a, b] = await store.upsertEntities(orgId, [
            entity(org, 'Alice', 'PERSON'),
            entity(org, 'Bob', 'PERSON'),
          ]);
          const memoryId = randomUUID();
          const [knows] = await store.upsertRelationships(orgId, [
            { fromId: a!.id, toId: b!.id, type: 'KNOWS', memoryId },
          ]);
          expect(knows).toMatchObject({ orgId, fromId: a!.id, toId: b!.id, type: 'KNOWS', memoryId });
          const again = await store.upsertRelationships(orgId, [
            { fromId: a!.id, toId: b!.id, type: 'KNOWS', memoryId: randomUUID() },
            { fromId: b!.id, toId: a!.id, type: 'KNOWS' },
            { fromId: a!.id, toId: b!.id, type: 'MANAGES' },
            { fromId: a!.id, toId: b!.id, type: 'KNOWS' },
          ]);
          expect(again[0]!.id).toBe(knows!.id);
          expect(again[0]!.memoryId).toBe(memoryId); // the memory it was first learned from
          expect(again[3]!.id).toBe(knows!.id);
          expect(new Set(ids(again)).size).toBe(3); // the reverse direction and another type are new
          expect((await store.neighbours(orgId, a!.id, 1, [org])).relationships).toHaveLength(3);

          const { orgId: otherOrgId, org: otherOrg } = tenant();
          const [foreign] = await store.upsertEntities(otherOrgId, [entity(otherOrg, 'Mallory', 'PERSON')]);
          await expectBadInput(
            store.upsertRelationships(orgId, [{ fromId: a!.id, toId: foreign!.id, type: 'KNOWS' }]),
          );
          await expectBadInput(
            store.upsertRelationships(orgId, [{ fromId: a!.id, toId: randomUUID(), type: 'KNOWS' }]),
          );
          // Nothing of a rejected batch is written, and nothing crossed the orgs.
          await expectBadInput(
            store.upsertRelationships(orgId, [
              { fromId: b!.id, toId: a!.id, type: 'ADMIRES' },
              { fromId: foreign!.id, toId: a!.id, type: 'KNOWS' },
            ]),
          );
          expect((await store.neighbours(orgId, a!.id, 1, [org])).relationships).toHaveLength(3);
          expect((await store.neighbours(otherOrgId, foreign!.id, 1, [otherOrg])).relationships).toHaveLength(
            0,
          );
        },
      );

      contractTest(
        'linking a mention twice links it once; mentionsOf and entitiesOfMemories read both ways',
        async () => {
          const { orgId, org, actor } = tenant();
          const [p, s, t] = await store.upsertEntities(orgId, [
            entity(org, 'Product X', 'PRODUCT'),
            entity(org, 'Slack', 'PRODUCT'),
            entity(org, 'Teams', 'PRODUCT'),
          ]);
          const doc = randomUUID();
          const question = randomUUID();
          const link = [
            { entityId: p!.id, memoryId: doc, memoryScope: org, documentId: 'doc-1' },
            { entityId: s!.id, memoryId: doc, memoryScope: org, documentId: 'doc-1' },
            { entityId: t!.id, memoryId: doc, memoryScope: org, documentId: 'doc-1' },
            { entityId: p!.id, memoryId: question, memoryScope: actor },
            { entityId: s!.id, memoryId: question, memoryScope: actor },
          ];
          await store.linkMentions(orgId, link);
          await store.linkMentions(orgId, link);
          await store.linkMentions(orgId, []);

          const mentions = await store.mentionsOf(orgId, [p!.id, t!.id, randomUUID()]);
          expect([...mentions.get(p!.id)!].sort()).toEqual([doc, question].sort());
          expect(mentions.get(t!.id)).toEqual([doc]);
          expect([...mentions.values()][2]).toEqual([]);

          const byMemory = await store.entitiesOfMemories(orgId, [doc, question, randomUUID()]);
          expect(sortedIds(byMemory.get(doc)!)).toEqual(sortedIds([p!, s!, t!]));
          expect(sortedIds(byMemory.get(question)!)).toEqual(sortedIds([p!, s!]));
          expect([...byMemory.values()][2]).toEqual([]);
          expect(byMemory.get(question)!.find((e) => e.id === p!.id)).toEqual(p);

          const { orgId: otherOrgId } = tenant();
          await expectBadInput(
            store.linkMentions(otherOrgId, [{ entityId: p!.id, memoryId: randomUUID(), memoryScope: org }]),
          );
          expect((await store.mentionsOf(orgId, [p!.id])).get(p!.id)).toHaveLength(2);
        },
      );

      contractTest('an entity must have a known type and a name; unknown ids read as nothing', async () => {
        const { orgId, org } = tenant();
        expect(ENTITY_TYPES).toContain('PRODUCT');
        for (const type of ['Person', 'PERSON:Admin', 'PERSON) DETACH DELETE n //', '', 'USER'])
          await expectBadInput(
            store.upsertEntities(orgId, [{ scope: org, name: 'Ann', type: type as EntityType }]),
          );
        await expectBadInput(store.upsertEntities(orgId, [entity(org, '   ')]));
        await expectBadInput(
          store.upsertEntities(orgId, [
            { scope: { level: 'GALAXY' as 'ORG', id: 'x' }, name: 'Ann', type: 'PERSON' },
          ]),
        );
        // A bad entity fails the whole batch: nothing was created.
        await expectBadInput(
          store.upsertEntities(orgId, [
            entity(org, 'Fine'),
            { scope: org, name: 'Bad', type: 'ALIEN' as EntityType },
          ]),
        );
        expect(await store.findEntities(orgId, { first: 10 })).toEqual([]);
        expect(await store.getEntities(orgId, ['not-a-uuid', randomUUID()])).toEqual([]);
      });
    });

    // ---- resolution ------------------------------------------------------------------

    describe('resolveNames', () => {
      contractTest(
        "an ORG entity is found along an actor's chain; another actor's or another org's never is",
        async () => {
          const t = tenant();
          const [product] = await store.upsertEntities(t.orgId, [entity(t.org, 'Product X', 'PRODUCT')]);
          const [secret, teamOnly] = await store.upsertEntities(t.orgId, [
            entity(t.otherActor, 'Project Nightingale', 'TERM'),
            entity(t.otherTeam, 'Blue Room', 'PLACE'),
          ]);
          const other = tenant();
          await store.upsertEntities(other.orgId, [entity(other.org, 'Dunder Mifflin', 'ORGANIZATION')]);

          const names = [
            'product x',
            'PRODUCT  X',
            'Project Nightingale',
            'Blue Room',
            'Dunder Mifflin',
            'nobody',
          ];
          const found = await store.resolveNames(t.orgId, names, t.chain);
          expect(ids(found.get('product x')!)).toEqual([product!.id]);
          expect(ids(found.get('PRODUCT  X')!)).toEqual([product!.id]);
          expect(found.get('Project Nightingale')).toEqual([]);
          expect(found.get('Blue Room')).toEqual([]);
          expect(found.get('Dunder Mifflin')).toEqual([]);
          expect(found.get('nobody')).toEqual([]);

          // The owner's own chains do see them.
          const ownerChain = [t.otherActor, t.otherTeam, t.org];
          const owner = await store.resolveNames(t.orgId, ['project nightingale', 'blue room'], ownerChain);
          expect(ids(owner.get('project nightingale')!)).toEqual([secret!.id]);
          expect(ids(owner.get('blue room')!)).toEqual([teamOnly!.id]);
          // The same org id as a scope id in another org is still another org.
          const otherChain = [ORG(other.orgId)];
          expect(
            (await store.resolveNames(t.orgId, ['Dunder Mifflin'], otherChain)).get('Dunder Mifflin'),
          ).toEqual([]);
          expect(await store.resolveNames(t.orgId, [], t.chain)).toEqual(new Map());
          expect((await store.resolveNames(t.orgId, ['product x'], [])).get('product x')).toEqual([]);
        },
      );

      contractTest(
        'the more specific scope comes first, in the order of the chain; aliases resolve',
        async () => {
          const t = tenant();
          const [atOrg, atTeam, atActor] = await store.upsertEntities(t.orgId, [
            entity(t.org, 'Acme', 'ORGANIZATION', ['Acme Corporation']),
            entity(t.team, 'ACME', 'ORGANIZATION'),
            entity(t.actor, 'acme', 'ORGANIZATION'),
          ]);
          const found = await store.resolveNames(t.orgId, ['Acme'], t.chain);
          expect(ids(found.get('Acme')!)).toEqual([atActor!.id, atTeam!.id, atOrg!.id]);
          const reversed = await store.resolveNames(t.orgId, ['Acme'], [...t.chain].reverse());
          expect(ids(reversed.get('Acme')!)).toEqual([atOrg!.id, atTeam!.id, atActor!.id]);

          const byAlias = await store.resolveNames(t.orgId, ['acme  CORPORATION'], t.chain);
          expect(byAlias.get('acme  CORPORATION')).toEqual([atOrg]);
          // An alias added later resolves too, and a name that is also an alias comes back once.
          await store.upsertEntities(t.orgId, [entity(t.team, 'Acme', 'ORGANIZATION', ['ACME Corporation'])]);
          const both = await store.resolveNames(t.orgId, ['Acme Corporation'], t.chain);
          expect(ids(both.get('Acme Corporation')!)).toEqual([atTeam!.id, atOrg!.id]);
          // Every entity of any type with that name in the chain.
          const [product] = await store.upsertEntities(t.orgId, [entity(t.org, 'Acme', 'PRODUCT')]);
          const typed = await store.resolveNames(t.orgId, ['acme'], [t.org]);
          expect(sortedIds(typed.get('acme')!)).toEqual(sortedIds([atOrg!, product!]));
        },
      );
    });

    // ---- reads ----------------------------------------------------------------------

    describe('findEntities', () => {
      contractTest('filters by search (name or alias), type and scope, and pages by keyset', async () => {
        const t = tenant();
        const created = await store.upsertEntities(t.orgId, [
          entity(t.org, 'Slack', 'PRODUCT', ['Slack Technologies']),
          entity(t.org, 'Microsoft Teams', 'PRODUCT', ['MS Teams']),
          entity(t.team, 'Team Offsite', 'TERM'),
          entity(t.actor, 'Jane Doe', 'PERSON'),
          entity(t.org, 'Berlin', 'PLACE'),
        ]);
        const [slack, teams, offsite, jane] = created;
        expect(sortedIds(await store.findEntities(t.orgId, { first: 10, search: 'TEAM' }))).toEqual(
          sortedIds([teams!, offsite!]),
        );
        expect(ids(await store.findEntities(t.orgId, { first: 10, search: 'technologies' }))).toEqual([
          slack!.id,
        ]);
        expect(ids(await store.findEntities(t.orgId, { first: 10, type: 'PERSON' }))).toEqual([jane!.id]);
        expect(
          sortedIds(await store.findEntities(t.orgId, { first: 10, scopes: [t.team, t.actor] })),
        ).toEqual(sortedIds([offsite!, jane!]));
        expect(await store.findEntities(t.orgId, { first: 10, scopes: [] })).toEqual([]);

        const seen: Entity[] = [];
        let after: { createdAt: Date; id: string } | undefined;
        for (let page = 0; page < 5; page++) {
          const batch = await store.findEntities(t.orgId, { first: 2, ...(after ? { after } : {}) });
          if (batch.length === 0) break;
          expect(batch.length).toBeLessThanOrEqual(2);
          seen.push(...batch);
          const last = batch.at(-1)!;
          after = { createdAt: last.createdAt, id: last.id };
        }
        expect(sortedIds(seen)).toEqual(sortedIds(created));
        expect(new Set(ids(seen)).size).toBe(5);
      });
    });

    describe('neighbours', () => {
      /**
       *   x ──▶ C ──▶ n1 ──▶ n2 ──▶ n3 ──▶ n4        (ORG; n2 ──▶ n1 again, a cycle)
       *         C ──▶ m1 ──▶ m2 ──▶ C                (a triangle)
       *         C ──▶ t                             (TEAM of the actor)
       *         C ──▶ p ──▶ secret ──▶ beyond       (p: ACTOR of another actor; secret: ORG)
       */
      async function graph() {
        const t = tenant();
        const [c, x, n1, n2, n3, n4, m1, m2, secret, beyond] = await store.upsertEntities(
          t.orgId,
          ['C', 'x', 'n1', 'n2', 'n3', 'n4', 'm1', 'm2', 'secret', 'beyond'].map((name) =>
            entity(t.org, name),
          ),
        );
        const [teamNode, privateNode] = await store.upsertEntities(t.orgId, [
          entity(t.team, 't'),
          entity(t.otherActor, 'p'),
        ]);
        await relate(t.orgId, [
          [x!, c!],
          [c!, n1!],
          [n1!, n2!],
          [n2!, n3!],
          [n3!, n4!],
          [n2!, n1!, 'PART_OF'],
          [c!, m1!],
          [m1!, m2!],
          [m2!, c!],
          [c!, teamNode!],
          [c!, privateNode!],
          [privateNode!, secret!],
          [secret!, beyond!],
        ]);
        return {
          t,
          c: c!,
          x: x!,
          n1: n1!,
          n2: n2!,
          n3: n3!,
          n4: n4!,
          m1: m1!,
          m2: m2!,
          teamNode: teamNode!,
          privateNode: privateNode!,
          secret: secret!,
          beyond: beyond!,
        };
      }

      contractTest(
        'depth 1, 2 and 3 in both directions, the start first, cycles counted once, relationships inside',
        async () => {
          const g = await graph();
          const depth1 = await store.neighbours(g.t.orgId, g.c.id, 1, g.t.chain);
          expect(depth1.entities[0]!.id).toBe(g.c.id);
          expect(sortedIds(depth1.entities)).toEqual(sortedIds([g.c, g.x, g.n1, g.m1, g.m2, g.teamNode]));
          // Every relationship among those entities (m1 ──▶ m2 too), none to the outside.
          expect(depth1.relationships).toHaveLength(6);
          expectClosed(depth1);

          const depth2 = await store.neighbours(g.t.orgId, g.c.id, 2, g.t.chain);
          expect(sortedIds(depth2.entities)).toEqual(
            sortedIds([g.c, g.x, g.n1, g.m1, g.m2, g.teamNode, g.n2]),
          );
          expect(depth2.relationships).toHaveLength(8);
          expectClosed(depth2);

          const depth3 = await store.neighbours(g.t.orgId, g.c.id, 3, g.t.chain);
          expect(sortedIds(depth3.entities)).toEqual(
            sortedIds([g.c, g.x, g.n1, g.m1, g.m2, g.teamNode, g.n2, g.n3]),
          );
          expect(depth3.entities.map((e) => e.id)).not.toContain(g.n4.id);
          expect(depth3.relationships).toHaveLength(9);
          expectClosed(depth3);

          for (const depth of [0, 4, 1.5])
            await expectBadInput(store.neighbours(g.t.orgId, g.c.id, depth, g.t.chain));
        },
      );

      contractTest(
        'never passes through an entity outside the allowed scopes, even to reach one inside them',
        async () => {
          const g = await graph();
          // `secret` is ORG-scoped (allowed), but only reachable through another actor's entity.
          const mine = await store.neighbours(g.t.orgId, g.c.id, 3, g.t.chain);
          const seen = ids(mine.entities);
          expect(seen).not.toContain(g.privateNode.id);
          expect(seen).not.toContain(g.secret.id);
          expect(seen).not.toContain(g.beyond.id);
          for (const relationship of mine.relationships) {
            expect(relationship.fromId).not.toBe(g.privateNode.id);
            expect(relationship.toId).not.toBe(g.privateNode.id);
          }
          // The other actor's chain goes through p (and not through the first actor's team).
          const theirs = await store.neighbours(g.t.orgId, g.c.id, 3, [g.t.otherActor, g.t.org]);
          expect(ids(theirs.entities)).toEqual(
            expect.arrayContaining([g.privateNode.id, g.secret.id, g.beyond.id]),
          );
          expect(ids(theirs.entities)).not.toContain(g.teamNode.id);
          // A start outside the scopes gives nothing.
          expect(await store.neighbours(g.t.orgId, g.privateNode.id, 2, g.t.chain)).toEqual({
            entities: [],
            relationships: [],
          });
          expect(await store.neighbours(g.t.orgId, g.c.id, 2, [])).toEqual({
            entities: [],
            relationships: [],
          });
        },
      );

      contractTest('matches a reference breadth-first search on a random scoped graph', async () => {
        const t = tenant();
        const rand = random(7);
        const scopes = [t.org, t.org, t.org, t.team, t.actor, t.otherActor, t.otherTeam];
        const nodes = await store.upsertEntities(
          t.orgId,
          Array.from({ length: 60 }, (_, i) =>
            entity(scopes[Math.floor(rand() * scopes.length)]!, `node ${i}`),
          ),
        );
        const edges: [string, string][] = [];
        for (let i = 0; i < 100; i++) {
          const a = nodes[Math.floor(rand() * nodes.length)]!;
          const b = nodes[Math.floor(rand() * nodes.length)]!;
          if (a.id !== b.id) edges.push([a.id, b.id]);
        }
        await store.upsertRelationships(
          t.orgId,
          edges.map(([fromId, toId]) => ({ fromId, toId, type: 'LINKS' })),
        );
        const allowedScopes = new Set(t.chain.map((s) => `${s.level}:${s.id}`));
        const scopeOf = new Map(nodes.map((n) => [n.id, `${n.scope.level}:${n.scope.id}`]));
        const allowed = (id: string) => allowedScopes.has(scopeOf.get(id)!);
        let nonTrivial = 0;
        for (const start of nodes.slice(0, 20)) {
          for (const depth of [1, 2, 3]) {
            const expected = bfs(start.id, edges, allowed, depth);
            const got = await store.neighbours(t.orgId, start.id, depth, t.chain);
            expect(sortedIds(got.entities)).toEqual([...expected.keys()].sort());
            expectClosed(got);
            if (expected.size > 3) nonTrivial++;
          }
        }
        expect(nonTrivial).toBeGreaterThan(5);
      });
    });

    describe('shortestPath', () => {
      contractTest(
        'routes around an out-of-scope entity even when the route through it is shorter',
        async () => {
          const t = tenant();
          const [s, a, b, target, s2, target2] = await store.upsertEntities(
            t.orgId,
            ['start', 'a', 'b', 'target', 'start 2', 'target 2'].map((name) => entity(t.org, name)),
          );
          const [shortcut, shortcut2] = await store.upsertEntities(t.orgId, [
            entity(t.otherActor, 'shortcut'),
            entity(t.otherActor, 'shortcut 2'),
          ]);
          await relate(t.orgId, [
            [s!, shortcut!],
            [shortcut!, target!],
            [s!, a!],
            [b!, a!], // direction does not matter
            [b!, target!],
            [s2!, shortcut2!],
            [shortcut2!, target2!],
          ]);

          const mine = await store.shortestPath(t.orgId, s!.id, target!.id, t.chain);
          expect(mine).not.toBeNull();
          expect(ids(mine!.entities)).toEqual([s!.id, a!.id, b!.id, target!.id]);
          expectChain(mine!, s!.id, target!.id);

          // The other actor may use its own entity: two hops.
          const theirs = await store.shortestPath(t.orgId, s!.id, target!.id, [t.otherActor, t.org]);
          expect(ids(theirs!.entities)).toEqual([s!.id, shortcut!.id, target!.id]);
          expectChain(theirs!, s!.id, target!.id);

          // Only out-of-scope routes: no path.
          expect(await store.shortestPath(t.orgId, s2!.id, target2!.id, t.chain)).toBeNull();
          expect(
            await store.shortestPath(t.orgId, s2!.id, target2!.id, [t.otherActor, t.org]),
          ).not.toBeNull();
          // An end outside the scopes: no path.
          expect(await store.shortestPath(t.orgId, s!.id, shortcut!.id, t.chain)).toBeNull();
          // From an entity to itself: just that entity.
          expect(await store.shortestPath(t.orgId, a!.id, a!.id, t.chain)).toEqual({
            entities: [a],
            relationships: [],
          });
          expect(await store.shortestPath(t.orgId, s!.id, target!.id, [])).toBeNull();
        },
      );

      contractTest('finds paths of up to 6 hops and no longer', async () => {
        const t = tenant();
        const chain = await store.upsertEntities(
          t.orgId,
          Array.from({ length: 8 }, (_, i) => entity(t.org, `hop ${i}`)),
        );
        await relate(
          t.orgId,
          chain.slice(1).map((node, i) => [chain[i]!, node] as [Entity, Entity]),
        );
        const six = await store.shortestPath(t.orgId, chain[0]!.id, chain[6]!.id, [t.org]);
        expect(ids(six!.entities)).toEqual(ids(chain.slice(0, 7)));
        expectChain(six!, chain[0]!.id, chain[6]!.id);
        const backwards = await store.shortestPath(t.orgId, chain[6]!.id, chain[0]!.id, [t.org]);
        expect(ids(backwards!.entities)).toEqual(ids(chain.slice(0, 7)).reverse());
        expect(await store.shortestPath(t.orgId, chain[0]!.id, chain[7]!.id, [t.org])).toBeNull();
      });

      contractTest(
        'has the length of a reference breadth-first search on a random scoped graph',
        async () => {
          const t = tenant();
          const rand = random(11);
          const scopes = [t.org, t.org, t.org, t.org, t.team, t.actor, t.otherActor, t.otherTeam];
          const nodes = await store.upsertEntities(
            t.orgId,
            Array.from({ length: 80 }, (_, i) =>
              entity(scopes[Math.floor(rand() * scopes.length)]!, `node ${i}`),
            ),
          );
          const edges: [string, string][] = [];
          for (let i = 0; i < 110; i++) {
            const a = nodes[Math.floor(rand() * nodes.length)]!;
            const b = nodes[Math.floor(rand() * nodes.length)]!;
            if (a.id !== b.id) edges.push([a.id, b.id]);
          }
          await store.upsertRelationships(
            t.orgId,
            edges.map(([fromId, toId]) => ({ fromId, toId, type: 'LINKS' })),
          );
          const allowedScopes = new Set(t.chain.map((s) => `${s.level}:${s.id}`));
          const scopeOf = new Map(nodes.map((n) => [n.id, `${n.scope.level}:${n.scope.id}`]));
          const allowed = (id: string) => allowedScopes.has(scopeOf.get(id)!);
          const lengths = new Map<number | null, number>();
          for (let i = 0; i < 60; i++) {
            const from = nodes[Math.floor(rand() * nodes.length)]!;
            const to = nodes[Math.floor(rand() * nodes.length)]!;
            const distance = bfs(from.id, edges, allowed, 6).get(to.id);
            const path = await store.shortestPath(t.orgId, from.id, to.id, t.chain);
            if (distance === undefined) {
              expect(path).toBeNull();
            } else {
              expect(path).not.toBeNull();
              expect(path!.relationships).toHaveLength(distance);
              expectChain(path!, from.id, to.id);
              for (const node of path!.entities) expect(allowed(node.id)).toBe(true);
            }
            lengths.set(distance ?? null, (lengths.get(distance ?? null) ?? 0) + 1);
          }
          // The sample covered no-path, short and long paths.
          expect(lengths.get(null)).toBeGreaterThan(0);
          expect([...lengths.keys()].filter((length) => (length ?? 0) >= 3).length).toBeGreaterThan(0);
        },
      );
    });

    // ---- deletes ----------------------------------------------------------------------

    describe('deletes', () => {
      contractTest(
        'deleteByMemories removes their mentions and the relationships learned only from them',
        async () => {
          const t = tenant();
          const [e1, e2, e3] = await store.upsertEntities(
            t.orgId,
            ['one', 'two', 'three'].map((n) => entity(t.org, n)),
          );
          const [m1, m2, m3] = [randomUUID(), randomUUID(), randomUUID()];
          await store.linkMentions(t.orgId, [
            { entityId: e1!.id, memoryId: m1, memoryScope: t.org },
            { entityId: e2!.id, memoryId: m1, memoryScope: t.org },
            { entityId: e2!.id, memoryId: m2, memoryScope: t.org },
            { entityId: e3!.id, memoryId: m3, memoryScope: t.org },
          ]);
          const [onlyM1, sharedM1M2, asserted, m3Rel] = await store.upsertRelationships(t.orgId, [
            { fromId: e1!.id, toId: e2!.id, type: 'ONLY_M1', memoryId: m1 },
            { fromId: e2!.id, toId: e3!.id, type: 'SHARED', memoryId: m1 },
            { fromId: e1!.id, toId: e3!.id, type: 'ASSERTED' },
            { fromId: e3!.id, toId: e1!.id, type: 'FROM_M3', memoryId: m3 },
          ]);
          await store.upsertRelationships(t.orgId, [
            { fromId: e2!.id, toId: e3!.id, type: 'SHARED', memoryId: m2 },
            { fromId: e1!.id, toId: e3!.id, type: 'ASSERTED', memoryId: m1 },
          ]);

          expect(await store.deleteByMemories(t.orgId, [m1, randomUUID(), 'not-a-uuid'])).toBe(2);
          const mentions = await store.mentionsOf(t.orgId, [e1!.id, e2!.id, e3!.id]);
          expect(mentions.get(e1!.id)).toEqual([]);
          expect(mentions.get(e2!.id)).toEqual([m2]);
          expect(mentions.get(e3!.id)).toEqual([m3]);
          const left = (await store.neighbours(t.orgId, e1!.id, 2, [t.org])).relationships;
          expect(ids(left).sort()).toEqual([sharedM1M2!.id, asserted!.id, m3Rel!.id].sort());
          // The shared one is now learned from the memory that still exists.
          expect(left.find((r) => r.id === sharedM1M2!.id)!.memoryId).toBe(m2);
          expect(ids(left)).not.toContain(onlyM1!.id);
          // Entities stay: other memories may mention them later.
          expect(await store.getEntities(t.orgId, [e1!.id])).toHaveLength(1);

          expect(await store.deleteByMemories(t.orgId, [m2, m3])).toBe(2);
          const remaining = (await store.neighbours(t.orgId, e1!.id, 2, [t.org])).relationships;
          expect(ids(remaining)).toEqual([asserted!.id]);
          expect(await store.deleteByMemories(t.orgId, [m2])).toBe(0);
          expect(await store.deleteByMemories(t.orgId, [])).toBe(0);
        },
      );

      contractTest(
        "deleteByActor removes the actor's mentions and ACTOR-scoped entities, and nothing of others",
        async () => {
          const t = tenant();
          const [product, other] = await store.upsertEntities(t.orgId, [
            entity(t.org, 'Product X', 'PRODUCT'),
            entity(t.org, 'Other', 'TERM'),
          ]);
          const [mine, theirs] = await store.upsertEntities(t.orgId, [
            entity(t.actor, 'My Cat', 'TERM'),
            entity(t.otherActor, 'Their Cat', 'TERM'),
          ]);
          const [actorMemory, otherMemory, orgMemory] = [randomUUID(), randomUUID(), randomUUID()];
          await store.linkMentions(t.orgId, [
            { entityId: product!.id, memoryId: actorMemory, memoryScope: t.actor },
            { entityId: mine!.id, memoryId: actorMemory, memoryScope: t.actor },
            { entityId: product!.id, memoryId: otherMemory, memoryScope: t.otherActor },
            { entityId: theirs!.id, memoryId: otherMemory, memoryScope: t.otherActor },
            { entityId: product!.id, memoryId: orgMemory, memoryScope: t.org },
          ]);
          const [learned, kept] = await store.upsertRelationships(t.orgId, [
            { fromId: product!.id, toId: other!.id, type: 'LEARNED', memoryId: actorMemory },
            { fromId: product!.id, toId: theirs!.id, type: 'KEPT', memoryId: otherMemory },
            { fromId: product!.id, toId: mine!.id, type: 'MINE' },
          ]);

          expect(await store.deleteByActor(t.orgId, t.actor.id)).toBe(2);
          expect(await store.getEntities(t.orgId, [mine!.id, theirs!.id, product!.id])).toEqual([
            theirs,
            product,
          ]);
          expect([...(await store.mentionsOf(t.orgId, [product!.id])).get(product!.id)!].sort()).toEqual(
            [otherMemory, orgMemory].sort(),
          );
          expect((await store.entitiesOfMemories(t.orgId, [actorMemory])).get(actorMemory)).toEqual([]);
          const everyone = [t.actor, t.otherActor, t.org];
          const relationships = (await store.neighbours(t.orgId, product!.id, 1, everyone)).relationships;
          expect(ids(relationships)).toEqual([kept!.id]);
          expect(ids(relationships)).not.toContain(learned!.id);
          expect((await store.resolveNames(t.orgId, ['my cat'], everyone)).get('my cat')).toEqual([]);
          expect(await store.deleteByActor(t.orgId, t.actor.id)).toBe(0);
        },
      );

      contractTest(
        'deleteScope removes the entities of that scope and what its memories said, nothing else',
        async () => {
          const t = tenant();
          const [teamEntity, otherTeamEntity, orgEntity] = await store.upsertEntities(t.orgId, [
            entity(t.team, 'Sprint Board', 'TERM'),
            entity(t.otherTeam, 'Sprint Board', 'TERM'),
            entity(t.org, 'Jira', 'PRODUCT'),
          ]);
          const [teamMemory, orgMemory] = [randomUUID(), randomUUID()];
          await store.linkMentions(t.orgId, [
            { entityId: orgEntity!.id, memoryId: teamMemory, memoryScope: t.team },
            { entityId: teamEntity!.id, memoryId: teamMemory, memoryScope: t.team },
            { entityId: orgEntity!.id, memoryId: orgMemory, memoryScope: t.org },
            { entityId: otherTeamEntity!.id, memoryId: orgMemory, memoryScope: t.org },
          ]);
          await store.upsertRelationships(t.orgId, [
            { fromId: teamEntity!.id, toId: orgEntity!.id, type: 'USES' },
            { fromId: otherTeamEntity!.id, toId: orgEntity!.id, type: 'USES', memoryId: teamMemory },
            { fromId: otherTeamEntity!.id, toId: orgEntity!.id, type: 'TRACKS' },
          ]);
          await store.deleteScope(t.orgId, t.team);
          expect(
            await store.getEntities(t.orgId, [teamEntity!.id, otherTeamEntity!.id, orgEntity!.id]),
          ).toEqual([otherTeamEntity, orgEntity]);
          expect((await store.mentionsOf(t.orgId, [orgEntity!.id])).get(orgEntity!.id)).toEqual([orgMemory]);
          const all = [t.team, t.otherTeam, t.org];
          const left = (await store.neighbours(t.orgId, orgEntity!.id, 1, all)).relationships;
          expect(left.map((r) => r.type)).toEqual(['TRACKS']);
        },
      );

      contractTest('deleteOrg removes everything of that org and nothing of another', async () => {
        const a = tenant();
        const b = tenant();
        const seed = async (t: ReturnType<typeof tenant>) => {
          const [x, y] = await store.upsertEntities(t.orgId, [
            entity(t.org, 'Shared Name', 'PRODUCT', ['SN']),
            entity(t.actor, 'Private', 'TERM'),
          ]);
          const memory = randomUUID();
          await store.linkMentions(t.orgId, [{ entityId: x!.id, memoryId: memory, memoryScope: t.actor }]);
          await store.upsertRelationships(t.orgId, [
            { fromId: x!.id, toId: y!.id, type: 'HAS', memoryId: memory },
          ]);
          return { x: x!, y: y!, memory };
        };
        const inA = await seed(a);
        const inB = await seed(b);
        await store.deleteOrg(a.orgId);

        expect(await store.getEntities(a.orgId, [inA.x.id, inA.y.id])).toEqual([]);
        expect(await store.findEntities(a.orgId, { first: 10 })).toEqual([]);
        expect((await store.resolveNames(a.orgId, ['sn'], a.chain)).get('sn')).toEqual([]);
        expect((await store.entitiesOfMemories(a.orgId, [inA.memory])).get(inA.memory)).toEqual([]);
        // Recreating a name in the deleted org gives a new entity.
        const [again] = await store.upsertEntities(a.orgId, [entity(a.org, 'Shared Name', 'PRODUCT')]);
        expect(again!.id).not.toBe(inA.x.id);
        expect(again!.aliases).toEqual([]);

        expect(await store.getEntities(b.orgId, [inB.x.id, inB.y.id])).toEqual([inB.x, inB.y]);
        expect(ids((await store.resolveNames(b.orgId, ['sn'], b.chain)).get('sn')!)).toEqual([inB.x.id]);
        expect((await store.mentionsOf(b.orgId, [inB.x.id])).get(inB.x.id)).toEqual([inB.memory]);
        expect((await store.neighbours(b.orgId, inB.x.id, 1, b.chain)).relationships).toHaveLength(1);
      });
    });

    // ---- isolation and hostile input ------------------------------------------------------

    describe('isolation', () => {
      contractTest('ids of one org read as nothing, and delete nothing, with another org', async () => {
        const a = tenant();
        const b = tenant();
        const [p, q] = await store.upsertEntities(a.orgId, [entity(a.org, 'Alpha'), entity(a.org, 'Beta')]);
        const memory = randomUUID();
        await store.linkMentions(a.orgId, [{ entityId: p!.id, memoryId: memory, memoryScope: a.actor }]);
        await store.upsertRelationships(a.orgId, [
          { fromId: p!.id, toId: q!.id, type: 'NEXT', memoryId: memory },
        ]);
        // Org B names org A's scopes outright: still nothing.
        const aScopes = [...a.chain, a.org];

        expect(await store.getEntities(b.orgId, [p!.id, q!.id])).toEqual([]);
        expect(await store.findEntities(b.orgId, { first: 10 })).toEqual([]);
        expect(await store.findEntities(b.orgId, { first: 10, search: 'alpha', scopes: aScopes })).toEqual(
          [],
        );
        expect((await store.resolveNames(b.orgId, ['Alpha'], aScopes)).get('Alpha')).toEqual([]);
        expect(await store.neighbours(b.orgId, p!.id, 3, aScopes)).toEqual({
          entities: [],
          relationships: [],
        });
        expect(await store.shortestPath(b.orgId, p!.id, q!.id, aScopes)).toBeNull();
        expect((await store.mentionsOf(b.orgId, [p!.id])).get(p!.id)).toEqual([]);
        expect((await store.entitiesOfMemories(b.orgId, [memory])).get(memory)).toEqual([]);

        expect(await store.deleteByMemories(b.orgId, [memory])).toBe(0);
        expect(await store.deleteByActor(b.orgId, a.actor.id)).toBe(0);
        await store.deleteScope(b.orgId, a.org);
        await store.deleteScope(b.orgId, a.actor);
        await store.deleteOrg(b.orgId);

        expect(await store.getEntities(a.orgId, [p!.id, q!.id])).toEqual([p, q]);
        expect((await store.mentionsOf(a.orgId, [p!.id])).get(p!.id)).toEqual([memory]);
        const path = await store.shortestPath(a.orgId, p!.id, q!.id, [a.org]);
        expect(path!.relationships).toHaveLength(1);
        expect(path!.relationships[0]!.memoryId).toBe(memory);
        // The same name in org B is another entity.
        const [bAlpha] = await store.upsertEntities(b.orgId, [entity(b.org, 'Alpha')]);
        expect(bAlpha!.id).not.toBe(p!.id);
        expect(bAlpha!.orgId).toBe(b.orgId);
      });
    });

    describe('hostile input', () => {
      const HOSTILE = [
        "') DETACH DELETE n //",
        "Robert'); DROP TABLE entity.entities; --",
        'MATCH (n) DETACH DELETE n',
        'back\\slash \\\\ and \\n',
        '"double" and \'single\' quotes',
        '$1 {name} ${x} `tick`',
        '100% _match_',
        '};  CALL db.clearQueryCaches() //',
      ];

      contractTest('names, aliases and scope ids are stored literally and nothing else changes', async () => {
        const t = tenant();
        const bystander = tenant();
        const [keep] = await store.upsertEntities(bystander.orgId, [
          entity(bystander.org, 'Keep Me', 'PRODUCT'),
        ]);
        const [anchor] = await store.upsertEntities(t.orgId, [entity(t.org, 'Anchor')]);
        const hostileScope = ACTOR("a' OR '1'='1");
        const created = await store.upsertEntities(t.orgId, [
          ...HOSTILE.map((name) => entity(t.org, name, 'TERM', [`alias ${name}`])),
          entity(hostileScope, HOSTILE[0]!),
        ]);
        expect(created.map((e) => e.name)).toEqual([...HOSTILE, HOSTILE[0]]);
        expect(new Set(ids(created)).size).toBe(HOSTILE.length + 1);
        created.slice(0, HOSTILE.length).forEach((e, i) => {
          expect(e.normalizedName).toBe(normalizeName(HOSTILE[i]!));
          expect(e.aliases).toEqual([`alias ${HOSTILE[i]}`]);
        });
        expect(created.at(-1)!.scope).toEqual(hostileScope);

        const resolved = await store.resolveNames(
          t.orgId,
          [...HOSTILE, ...HOSTILE.map((n) => `alias ${n}`)],
          [t.org],
        );
        HOSTILE.forEach((name, i) => {
          expect(ids(resolved.get(name)!)).toEqual([created[i]!.id]);
          expect(ids(resolved.get(`alias ${name}`)!)).toEqual([created[i]!.id]);
        });
        expect(
          ids((await store.resolveNames(t.orgId, [HOSTILE[0]!], [hostileScope])).get(HOSTILE[0]!)!),
        ).toEqual([created.at(-1)!.id]);
        // A hostile scope id matches only itself, not everything.
        expect((await store.resolveNames(t.orgId, ['Anchor'], [hostileScope])).get('Anchor')).toEqual([]);
        // Search is a literal substring: '%' and '_' are not wildcards.
        expect(ids(await store.findEntities(t.orgId, { first: 50, search: '100%' }))).toEqual([
          created[6]!.id,
        ]);
        expect(await store.findEntities(t.orgId, { first: 50, search: '%' })).toHaveLength(1);
        expect(await store.findEntities(t.orgId, { first: 50, search: "'" })).toHaveLength(4);

        await store.upsertRelationships(t.orgId, [
          { fromId: anchor!.id, toId: created[0]!.id, type: 'MENTIONS' },
        ]);
        await store.linkMentions(t.orgId, [
          {
            entityId: created[1]!.id,
            memoryId: randomUUID(),
            memoryScope: hostileScope,
            documentId: HOSTILE[1],
          },
        ]);
        await store.deleteScope(t.orgId, ACTOR("' OR 1=1 --"));
        await store.deleteByActor(t.orgId, "x' OR '1'='1");

        // Text Postgres or JSON cannot carry (NUL, a lone surrogate) is refused, not mangled.
        for (const name of ['nul\u0000byte', 'lone \uD800 surrogate'])
          await expectBadInput(store.upsertEntities(t.orgId, [entity(t.org, name)]));
        await expectBadInput(store.upsertEntities(t.orgId, [entity(t.org, 'Fine', 'TERM', ['a\u0000b'])]));
        expect((await store.resolveNames(t.orgId, ['nul\u0000byte'], [t.org])).get('nul\u0000byte')).toEqual(
          [],
        );

        expect(await store.findEntities(t.orgId, { first: 50 })).toHaveLength(HOSTILE.length + 2);
        expect(await store.getEntities(bystander.orgId, [keep!.id])).toEqual([keep]);
        expect((await store.neighbours(t.orgId, anchor!.id, 1, [t.org])).entities).toHaveLength(2);
      });

      contractTest(
        'relationship types are whitelisted: KNOWS is fine, anything else is refused with BAD_USER_INPUT',
        async () => {
          const t = tenant();
          const [a, b] = await store.upsertEntities(t.orgId, [entity(t.org, 'A'), entity(t.org, 'B')]);
          const [ok] = await store.upsertRelationships(t.orgId, [
            { fromId: a!.id, toId: b!.id, type: 'KNOWS' },
          ]);
          expect(ok!.type).toBe('KNOWS');
          for (const type of [
            'knows; DROP',
            'knows',
            'KNOWS; DROP TABLE entity.relationships',
            'KNOWS]->(m) DETACH DELETE m //',
            'KNOWS`',
            '_KNOWS',
            '1KNOWS',
            'K'.repeat(51),
            '',
          ])
            await expectBadInput(store.upsertRelationships(t.orgId, [{ fromId: a!.id, toId: b!.id, type }]));
          await expectBadInput(
            store.upsertRelationships(t.orgId, [{ fromId: 'a', toId: b!.id, type: 'KNOWS' }]),
          );
          const after = await store.neighbours(t.orgId, a!.id, 1, [t.org]);
          expect(after.relationships.map((r) => r.type)).toEqual(['KNOWS']);
          expect(sortedIds(after.entities)).toEqual(sortedIds([a!, b!]));
        },
      );
    });

    contractTest('ping answers', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
