import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, type ObjectTypeDefinitionNode, type TypeNode } from 'graphql';
import { signIdentity, IDENTITY_HEADER, type Identity } from '../../common/identity';
import {
  ENTITIES_QUERY,
  ENTITY_FIELDS,
  ENTITY_QUERY,
  entityNamed,
  GRAPH_FIELDS,
  listEntities,
  NEIGHBOURS_QUERY,
  PATH_QUERY,
  snapshotEntityGraph,
  type EntityData,
  type GraphData,
} from '../support/entity-fixtures';
import { createTenant, expectData, expectError, type Tenant } from '../support/hierarchy-fixtures';
import {
  expectJobDone,
  ingestDocuments,
  ingestEvents,
  listMemories,
  upsertActor,
} from '../support/memory-fixtures';
import { startTestStack, type TestStack } from '../support/stack';

const SCHEMA_DIR = path.resolve(__dirname, '../../schema');

function objectTypes(file: string): Map<string, ObjectTypeDefinitionNode> {
  const document = parse(fs.readFileSync(path.join(SCHEMA_DIR, file), 'utf8'));
  return new Map(
    document.definitions
      .filter(
        (definition): definition is ObjectTypeDefinitionNode =>
          definition.kind === Kind.OBJECT_TYPE_DEFINITION,
      )
      .map((definition) => [definition.name.value, definition]),
  );
}

const namedType = (type: TypeNode): string =>
  type.kind === Kind.NAMED_TYPE ? type.name.value : namedType(type.type);

/**
 * Every field of schema/entity.graphql that can reach data of an org: each Query field; each
 * field it adds to a type another subgraph owns (Memory.entities); and each field of its own
 * types that leads to other objects of the graph (Entity.memories, Entity.relationships), i.e.
 * that returns an object type which is not a plain shareable value (Scope, PageInfo).
 */
function entitySubgraphFields(): string[] {
  const entity = objectTypes('entity.graphql');
  const others = fs
    .readdirSync(SCHEMA_DIR)
    .filter((file) => file.endsWith('.graphql') && !['entity.graphql', 'supergraph.graphql'].includes(file))
    .map(objectTypes);
  const isValueType = (name: string) =>
    !entity.has(name) || (entity.get(name)!.directives ?? []).some((d) => d.name.value === 'shareable');
  const fields: string[] = [];
  for (const [name, type] of entity) {
    const owner = others.find((types) => types.has(name));
    const keyed = (type.directives ?? []).some((directive) => directive.name.value === 'key');
    if (name === 'Query' || name === 'Mutation' || name === 'Subscription') {
      fields.push(...(type.fields ?? []).map((field) => `${name}.${field.name.value}`));
    } else if (owner) {
      const ownFields = new Set((owner.get(name)!.fields ?? []).map((field) => field.name.value));
      fields.push(
        ...(type.fields ?? [])
          .filter((field) => !ownFields.has(field.name.value))
          .map((field) => `${name}.${field.name.value}`),
      );
    } else if (keyed) {
      fields.push(
        ...(type.fields ?? [])
          .filter((field) => !isValueType(namedType(field.type)))
          .map((field) => `${name}.${field.name.value}`),
      );
    }
  }
  return fields.sort();
}

const PRODUCT_DOC = 'Product X supports integrations with Slack and Microsoft Teams.';
const QUESTION = 'Does Product X work with Slack?';
const SHARED_ACTOR_EVENT = 'I met Dana Whitfield in Berlin to talk about Zendesk.';

const MEMORY_ENTITIES = `query($id: ID!) { memory(id: $id) { id orgId entities { ${ENTITY_FIELDS} } } }`;
const MEMORIES_ENTITIES = `query($actorId: ID) {
  memories(actorId: $actorId, includeClosed: true, first: 500) { nodes { id orgId entities { ${ENTITY_FIELDS} } } }
}`;
const ACTOR_MEMORY_ENTITIES = `query($orgId: ID, $actorId: ID!) {
  actor(orgId: $orgId, actorId: $actorId) { orgId memories(first: 500) { nodes { id orgId entities { ${ENTITY_FIELDS} } } } }
}`;
const ENTITY_MEMORIES = `query($orgId: ID, $id: ID!) {
  entity(orgId: $orgId, id: $id) { id orgId memories(first: 500) { id orgId content } }
}`;
const ENTITY_RELATIONSHIPS = `query($orgId: ID, $id: ID!) {
  entity(orgId: $orgId, id: $id) { id orgId relationships { ${GRAPH_FIELDS} } }
}`;

interface OrgGraph {
  entities: EntityData[];
  entityIds: Set<string>;
  relationshipIds: Set<string>;
  memoryIds: Set<string>;
}

describe('entity subgraph tenant isolation, through the gateway', () => {
  let stack: TestStack;
  let a: Tenant;
  let b: Tenant;
  const graphs: Record<'a' | 'b', OrgGraph> = {} as never;
  let bBefore: unknown;

  /** Everything of one org's graph, read with its own admin key. */
  async function readGraph(tenant: Tenant): Promise<OrgGraph> {
    const snapshot = await snapshotEntityGraph(stack, tenant.adminKey);
    const entities = await listEntities(stack, tenant.adminKey);
    const memories = await listMemories(stack, tenant.adminKey, { includeClosed: true });
    return {
      entities,
      entityIds: new Set(entities.map((entity) => entity.id)),
      relationshipIds: new Set(
        snapshot.entities.flatMap((entity) => entity.relationships.relationships.map((r) => r.id)),
      ),
      memoryIds: new Set(memories.map((memory) => memory.id)),
    };
  }

  beforeAll(async () => {
    stack = await startTestStack();
    [a, b] = await Promise.all([createTenant(stack, 'ent-iso-a'), createTenant(stack, 'ent-iso-b')]);
    // Both orgs: the same product document, the same question, an actor id both orgs use
    // mentioning the same people and places. B also has entities A has no namesake for.
    await Promise.all(
      [a, b].map(async (tenant) => {
        await upsertActor(stack, tenant.adminKey, { actorId: 'shared-actor' });
        const docs = [
          await ingestDocuments(stack, tenant.adminKey, [
            { documentId: 'doc_product_x', content: PRODUCT_DOC },
          ]),
        ];
        if (tenant === b) {
          docs.push(
            await ingestDocuments(stack, b.adminKey, [
              { documentId: 'b-only-doc', content: 'Globex Portal syncs tickets with Jira Cloud.' },
            ]),
            await ingestDocuments(
              stack,
              b.adminKey,
              [{ documentId: 'b-team-doc', content: 'The platform team runs Grafana on Kubernetes.' }],
              { scope: { level: 'TEAM', teamId: b.teamId } },
            ),
          );
        }
        for (const job of docs) await expectJobDone(stack, tenant.adminKey, job.jobId);
        const events = await ingestEvents(stack, tenant.memberKey, [
          { eventId: 'q1', actorId: tenant.actorId, content: QUESTION },
          { eventId: 'q2', actorId: 'shared-actor', content: SHARED_ACTOR_EVENT },
        ]);
        await expectJobDone(stack, tenant.memberKey, events.jobId);
      }),
    );
    graphs.a = await readGraph(a);
    graphs.b = await readGraph(b);
    // The premise: both orgs have a graph, with namesakes, and B has entities of several scopes.
    for (const org of [graphs.a, graphs.b]) {
      expect(org.relationshipIds.size).toBeGreaterThan(0);
      expect(org.entities.map((entity) => entity.name)).toEqual(
        expect.arrayContaining(['Product X', 'Slack', 'Microsoft Teams']),
      );
    }
    expect(graphs.b.entities.map((entity) => entity.scope.level)).toEqual(
      expect.arrayContaining(['ORG', 'TEAM', 'ACTOR']),
    );
    expect(graphs.a.entities.some((entity) => entity.scope.id === 'shared-actor')).toBe(true);
    bBefore = await snapshotEntityGraph(stack, b.adminKey);
  });
  afterAll(() => stack?.close());

  const keysOfA = () => [a.memberKey, a.adminKey];
  const idsOf = (entities: Array<{ id: string }>) => entities.map((entity) => entity.id);
  const bEntity = (name: string) => graphs.b.entities.find((entity) => entity.name === name)!;
  const aEntity = (name: string) => graphs.a.entities.find((entity) => entity.name === name)!;

  /** Asserts entities are all A's (by org and by id) and none is B's. */
  function expectOnlyA(entities: Array<Pick<EntityData, 'id' | 'orgId'>>) {
    for (const entity of entities) {
      expect(entity.orgId).toBe(a.orgId);
      expect(graphs.a.entityIds.has(entity.id)).toBe(true);
      expect(graphs.b.entityIds.has(entity.id)).toBe(false);
    }
  }

  /** Asserts a piece of graph is made of A's entities, relationships and memories only. */
  function expectGraphOfA(graph: GraphData) {
    expectOnlyA(graph.entities);
    for (const relationship of graph.relationships) {
      expect(graphs.b.relationshipIds.has(relationship.id)).toBe(false);
      expect(graphs.a.relationshipIds.has(relationship.id)).toBe(true);
      expect(graphs.a.entityIds.has(relationship.fromId)).toBe(true);
      expect(graphs.a.entityIds.has(relationship.toId)).toBe(true);
      if (relationship.memoryId !== null) expect(graphs.a.memoryIds.has(relationship.memoryId)).toBe(true);
    }
  }

  function expectMemoriesOfA(memories: Array<{ id: string; orgId: string }>) {
    for (const memory of memories) {
      expect(memory.orgId).toBe(a.orgId);
      expect(graphs.a.memoryIds.has(memory.id)).toBe(true);
      expect(graphs.b.memoryIds.has(memory.id)).toBe(false);
    }
  }

  /** Field (as `Type.field`) → probes by A's keys against B. */
  const ISOLATION: Record<string, () => Promise<void>> = {
    'Query.entity': async () => {
      for (const key of keysOfA()) {
        for (const entity of graphs.b.entities) {
          expectError(await stack.gql(ENTITY_QUERY, { id: entity.id }, key), 'NOT_FOUND');
          expectError(await stack.gql(ENTITY_QUERY, { id: entity.id, orgId: b.orgId }, key), 'FORBIDDEN');
        }
        // Naming B with one of A's own ids is refused too, and the id alone still reads A's.
        expectError(
          await stack.gql(ENTITY_QUERY, { id: aEntity('Product X').id, orgId: b.orgId }, key),
          'FORBIDDEN',
        );
        const own = expectData(await stack.gql(ENTITY_QUERY, { id: aEntity('Product X').id }, key)).entity;
        expect(own).toEqual(aEntity('Product X'));
      }
      // The ids are real: B's own key reads them.
      const own = expectData(await stack.gql(ENTITY_QUERY, { id: bEntity('Product X').id }, b.memberKey));
      expect(own.entity).toEqual(bEntity('Product X'));
    },

    'Query.entities': async () => {
      for (const key of keysOfA()) {
        expectError(await stack.gql(ENTITIES_QUERY, { orgId: b.orgId }, key), 'FORBIDDEN');
        expectError(
          await stack.gql(ENTITIES_QUERY, { orgId: b.orgId, search: 'product x' }, key),
          'FORBIDDEN',
        );
        // Everything A's key lists is exactly A's graph, page by page too.
        expect(await listEntities(stack, key)).toEqual(graphs.a.entities);
        expect(await listEntities(stack, key, {}, 1)).toEqual(graphs.a.entities);
        for (const filter of [
          { search: 'product x' },
          { search: 'slack' },
          { search: 'globex' },
          { search: 'grafana' },
          { type: 'PRODUCT' },
          { type: 'PERSON' },
          { scope: { level: 'ORG', id: b.orgId } },
          { scope: { level: 'TEAM', id: b.teamId } },
          { scope: { level: 'ACTOR', id: b.actorId } },
          { scope: { level: 'ACTOR', id: 'shared-actor' } },
        ]) {
          expectOnlyA(await listEntities(stack, key, filter));
        }
        // B-only names and B's scopes give nothing; the names both orgs have give A's.
        expect(await listEntities(stack, key, { search: 'globex' })).toEqual([]);
        expect(await listEntities(stack, key, { scope: { level: 'ORG', id: b.orgId } })).toEqual([]);
        expect(await listEntities(stack, key, { scope: { level: 'TEAM', id: b.teamId } })).toEqual([]);
        expect(idsOf(await listEntities(stack, key, { search: 'product x' }))).toEqual([
          aEntity('Product X').id,
        ]);
        const shared = await listEntities(stack, key, { scope: { level: 'ACTOR', id: 'shared-actor' } });
        expect(shared.length).toBeGreaterThan(0);
        // A cursor taken from B's listing is only a position: A's key still lists A's entities only.
        const bPage = expectData(await stack.gql(ENTITIES_QUERY, { first: 1 }, b.adminKey)).entities;
        const after = bPage.pageInfo.endCursor as string;
        expectOnlyA(expectData(await stack.gql(ENTITIES_QUERY, { first: 500, after }, key)).entities.nodes);
      }
    },

    'Query.neighbours': async () => {
      for (const key of keysOfA()) {
        for (const entity of graphs.b.entities) {
          for (const depth of [1, 3]) {
            expectError(await stack.gql(NEIGHBOURS_QUERY, { id: entity.id, depth }, key), 'NOT_FOUND');
          }
          expectError(
            await stack.gql(NEIGHBOURS_QUERY, { id: entity.id, depth: 1, orgId: b.orgId }, key),
            'FORBIDDEN',
          );
        }
        expectError(
          await stack.gql(NEIGHBOURS_QUERY, { id: aEntity('Product X').id, depth: 1, orgId: b.orgId }, key),
          'FORBIDDEN',
        );
        // From every entity of A, at every depth: A's graph only, though B has namesakes of all of it.
        for (const entity of graphs.a.entities) {
          for (const depth of [1, 2, 3]) {
            expectGraphOfA(
              expectData(await stack.gql(NEIGHBOURS_QUERY, { id: entity.id, depth }, key)).neighbours,
            );
          }
        }
        const productX = expectData(
          await stack.gql(NEIGHBOURS_QUERY, { id: aEntity('Product X').id, depth: 3 }, key),
        ).neighbours as GraphData;
        expect(idsOf(productX.entities)).toEqual(
          expect.arrayContaining([aEntity('Slack').id, aEntity('Microsoft Teams').id]),
        );
        expect(productX.relationships.length).toBeGreaterThan(0);
        // Naming B's scopes as the ones to pass through reaches nothing of B.
        const bScopes = [
          { level: 'ORG', id: b.orgId },
          { level: 'TEAM', id: b.teamId },
          { level: 'ACTOR', id: 'shared-actor' },
        ];
        for (const entity of graphs.a.entities) {
          expectGraphOfA(
            expectData(await stack.gql(NEIGHBOURS_QUERY, { id: entity.id, depth: 3, scopes: bScopes }, key))
              .neighbours,
          );
        }
      }
    },

    'Query.path': async () => {
      const [bProduct, bSlack] = [bEntity('Product X').id, bEntity('Slack').id];
      const [aProduct, aSlack] = [aEntity('Product X').id, aEntity('Slack').id];
      // B's own key finds the path between B's ends (so a refusal below is not "no path").
      expect(
        expectData(await stack.gql(PATH_QUERY, { from: bProduct, to: bSlack }, b.memberKey)).path,
      ).not.toBeNull();
      for (const key of keysOfA()) {
        for (const [from, to] of [
          [aProduct, bSlack],
          [bProduct, aSlack],
          [bProduct, bSlack],
          [aProduct, bProduct],
          [bSlack, bSlack],
        ]) {
          expectError(await stack.gql(PATH_QUERY, { from, to }, key), 'NOT_FOUND');
          expectError(await stack.gql(PATH_QUERY, { from, to, orgId: b.orgId }, key), 'FORBIDDEN');
        }
        expectError(
          await stack.gql(PATH_QUERY, { from: aProduct, to: aSlack, orgId: b.orgId }, key),
          'FORBIDDEN',
        );
        // Between any two of A's entities: A's graph only.
        for (const from of graphs.a.entities) {
          for (const to of graphs.a.entities) {
            const found = expectData(await stack.gql(PATH_QUERY, { from: from.id, to: to.id }, key)).path;
            if (found) expectGraphOfA(found);
          }
        }
        const direct = expectData(await stack.gql(PATH_QUERY, { from: aProduct, to: aSlack }, key)).path;
        expect(idsOf(direct.entities)).toEqual(expect.arrayContaining([aProduct, aSlack]));
        // Through B's scopes only: nothing of B to walk through.
        const scopes = [{ level: 'ORG', id: b.orgId }];
        const throughB = expectData(
          await stack.gql(PATH_QUERY, { from: aProduct, to: aSlack, scopes }, key),
        ).path;
        if (throughB) expectGraphOfA(throughB);
      }
    },

    'Entity.memories': async () => {
      for (const key of keysOfA()) {
        for (const entity of graphs.a.entities) {
          const found = expectData(await stack.gql(ENTITY_MEMORIES, { id: entity.id }, key)).entity;
          expect(found.memories.length).toBeGreaterThan(0);
          expectMemoriesOfA(found.memories);
        }
        // Product X: A's document and A's question, never B's (same texts in both orgs).
        const productX = expectData(
          await stack.gql(ENTITY_MEMORIES, { id: aEntity('Product X').id }, key),
        ).entity;
        expect(productX.memories.map((memory: { content: string }) => memory.content).sort()).toEqual(
          [PRODUCT_DOC, QUESTION].sort(),
        );
        for (const entity of graphs.b.entities) {
          expectError(await stack.gql(ENTITY_MEMORIES, { id: entity.id }, key), 'NOT_FOUND');
        }
        expectError(
          await stack.gql(ENTITY_MEMORIES, { id: bEntity('Product X').id, orgId: b.orgId }, key),
          'FORBIDDEN',
        );
        const listed = expectData(
          await stack.gql(
            `{ entities(first: 500) { nodes { orgId memories(first: 500) { id orgId } } } }`,
            {},
            key,
          ),
        ).entities.nodes;
        for (const entity of listed) {
          expect(entity.orgId).toBe(a.orgId);
          expectMemoriesOfA(entity.memories);
        }
        // Entities cannot be fetched by representation through the gateway.
        const byReference = await stack.gql(
          `query($r: [_Any!]!) { _entities(representations: $r) { ... on Entity { id memories { id } } } }`,
          { r: [{ __typename: 'Entity', id: bEntity('Product X').id }] },
          key,
        );
        expect(byReference.data ?? null).toBeNull();
        expect(byReference.errors?.length).toBeGreaterThan(0);
      }
    },

    'Entity.relationships': async () => {
      for (const key of keysOfA()) {
        let seen = 0;
        for (const entity of graphs.a.entities) {
          const found = expectData(await stack.gql(ENTITY_RELATIONSHIPS, { id: entity.id }, key)).entity;
          expectGraphOfA(found.relationships);
          seen += found.relationships.relationships.length;
        }
        expect(seen).toBeGreaterThan(0);
        for (const entity of graphs.b.entities) {
          expectError(await stack.gql(ENTITY_RELATIONSHIPS, { id: entity.id }, key), 'NOT_FOUND');
        }
        // Reached through other fields: entities, neighbours, and memories' entities.
        const nested = expectData(
          await stack.gql(
            `query($id: ID!) {
              entities(first: 500) { nodes { relationships { ${GRAPH_FIELDS} } } }
              neighbours(entityId: $id, depth: 3) { entities { relationships { ${GRAPH_FIELDS} } } }
              memories(includeClosed: true, first: 500) { nodes { entities { relationships { ${GRAPH_FIELDS} } } } }
            }`,
            { id: aEntity('Product X').id },
            key,
          ),
        );
        const pieces: GraphData[] = [
          ...nested.entities.nodes.map((node: { relationships: GraphData }) => node.relationships),
          ...nested.neighbours.entities.map((node: { relationships: GraphData }) => node.relationships),
          ...nested.memories.nodes.flatMap((memory: { entities: Array<{ relationships: GraphData }> }) =>
            memory.entities.map((entity) => entity.relationships),
          ),
        ];
        expect(pieces.length).toBeGreaterThan(0);
        pieces.forEach(expectGraphOfA);
      }
    },

    'Memory.entities': async () => {
      const bProduct = bEntity('Product X').id;
      for (const key of keysOfA()) {
        // memory(id): every memory of A lists A's entities; B's memories are not found.
        for (const id of graphs.a.memoryIds) {
          const memory = expectData(await stack.gql(MEMORY_ENTITIES, { id }, key)).memory;
          expect(memory.orgId).toBe(a.orgId);
          expectOnlyA(memory.entities);
        }
        for (const id of graphs.b.memoryIds) {
          expectError(await stack.gql(MEMORY_ENTITIES, { id }, key), 'NOT_FOUND');
        }
        // memories: with every actor filter, including B's actor and the actor id both orgs use.
        let linked = 0;
        for (const actorId of [undefined, a.actorId, 'shared-actor', b.actorId]) {
          const { nodes } = expectData(await stack.gql(MEMORIES_ENTITIES, { actorId }, key)).memories;
          expectMemoriesOfA(nodes);
          for (const memory of nodes) {
            expectOnlyA(memory.entities);
            linked += memory.entities.length;
          }
        }
        expect(linked).toBeGreaterThan(0);
        // actor { memories }: A's actors only; B's actor is not found, B's org is forbidden.
        for (const actorId of [a.actorId, 'shared-actor']) {
          const actor = expectData(await stack.gql(ACTOR_MEMORY_ENTITIES, { actorId }, key)).actor;
          expect(actor.orgId).toBe(a.orgId);
          expect(actor.memories.nodes.length).toBeGreaterThan(0);
          expectMemoriesOfA(actor.memories.nodes);
          for (const memory of actor.memories.nodes) expectOnlyA(memory.entities);
        }
        const question = expectData(await stack.gql(ACTOR_MEMORY_ENTITIES, { actorId: a.actorId }, key)).actor
          .memories.nodes[0];
        expect(idsOf(question.entities)).toContain(aEntity('Product X').id);
        expect(idsOf(question.entities)).not.toContain(bProduct);
        expectError(await stack.gql(ACTOR_MEMORY_ENTITIES, { actorId: b.actorId }, key), 'NOT_FOUND');
        expectError(
          await stack.gql(ACTOR_MEMORY_ENTITIES, { actorId: 'shared-actor', orgId: b.orgId }, key),
          'FORBIDDEN',
        );
        // A Memory representation naming B cannot be sent through the gateway.
        const byReference = await stack.gql(
          `query($r: [_Any!]!) { _entities(representations: $r) { ... on Memory { id entities { id } } } }`,
          { r: [...graphs.b.memoryIds].map((id) => ({ __typename: 'Memory', id, orgId: b.orgId })) },
          key,
        );
        expect(byReference.data ?? null).toBeNull();
        expect(byReference.errors?.length).toBeGreaterThan(0);
      }
    },
  };

  it('covers every field the entity subgraph serves (schema/entity.graphql) with an isolation test', () => {
    const fields = entitySubgraphFields();
    expect(fields).toEqual(
      expect.arrayContaining([
        'Query.entity',
        'Query.path',
        'Entity.memories',
        'Entity.relationships',
        'Memory.entities',
      ]),
    );
    expect(Object.keys(ISOLATION).sort()).toEqual(fields);
  });

  it.each(Object.keys(ISOLATION))("%s: org A's keys reach nothing of org B's graph", async (field) => {
    await ISOLATION[field]!();
    expect(await snapshotEntityGraph(stack, b.adminKey)).toEqual(bBefore);
  });

  describe('bad input', () => {
    const anUnknownId = '00000000-0000-4000-8000-000000000000';

    it('refuses a depth outside 1..3', async () => {
      for (const depth of [0, 4, -1]) {
        const response = await stack.gql(
          NEIGHBOURS_QUERY,
          { id: aEntity('Product X').id, depth },
          a.memberKey,
        );
        expect(expectError(response, 'BAD_USER_INPUT').message).toMatch(/depth/);
      }
    });

    it('answers NOT_FOUND for an unknown entity id', async () => {
      for (const id of [anUnknownId, 'not-an-id']) {
        expectError(await stack.gql(ENTITY_QUERY, { id }, a.memberKey), 'NOT_FOUND');
        expectError(await stack.gql(NEIGHBOURS_QUERY, { id, depth: 2 }, a.memberKey), 'NOT_FOUND');
        expectError(
          await stack.gql(PATH_QUERY, { from: id, to: aEntity('Slack').id }, a.memberKey),
          'NOT_FOUND',
        );
        expectError(
          await stack.gql(PATH_QUERY, { from: aEntity('Slack').id, to: id }, a.memberKey),
          'NOT_FOUND',
        );
      }
    });

    it('refuses first outside 1..500 on entities and Entity.memories', async () => {
      for (const first of [0, 501, -1]) {
        expectError(await stack.gql(ENTITIES_QUERY, { first }, a.memberKey), 'BAD_USER_INPUT');
        expectError(
          await stack.gql(
            `query($id: ID!, $first: Int) { entity(id: $id) { memories(first: $first) { id } } }`,
            { id: aEntity('Product X').id, first },
            a.memberKey,
          ),
          'BAD_USER_INPUT',
        );
      }
      for (const first of [1, 500]) expectData(await stack.gql(ENTITIES_QUERY, { first }, a.memberKey));
    });

    it('refuses an unknown entity type filter', async () => {
      for (const type of ['SPACESHIP', 'product', "PRODUCT' OR 1=1"]) {
        const error = expectError(await stack.gql(ENTITIES_QUERY, { type }, a.memberKey), 'BAD_USER_INPUT');
        expect(error.message).toMatch(/type/i);
      }
      expectOnlyA(await listEntities(stack, a.memberKey, { type: 'PRODUCT' }));
    });

    it('refuses a malformed after cursor', async () => {
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const after of [
        'garbage!!',
        encode({ not: 'a cursor' }),
        encode(['not a date', anUnknownId]),
        encode(['2024-01-01T00:00:00.000Z', 'not-a-uuid']),
        encode(['2024-01-01T00:00:00.000Z', 42]),
      ]) {
        const error = expectError(await stack.gql(ENTITIES_QUERY, { after }, a.memberKey), 'BAD_USER_INPUT');
        expect(error.message).toMatch(/after/);
      }
    });

    it('lets a member key read the graph (reads are member-level)', async () => {
      const productX = await entityNamed(stack, a.memberKey, 'Product X');
      expect(productX).toEqual(aEntity('Product X'));
      const data = expectData(
        await stack.gql(
          `query($id: ID!, $to: ID!) {
            entity(id: $id) { id memories { id } relationships { relationships { id } } }
            neighbours(entityId: $id, depth: 2) { entities { id } }
            path(fromId: $id, toId: $to) { entities { id } }
          }`,
          { id: productX.id, to: aEntity('Microsoft Teams').id },
          a.memberKey,
        ),
      );
      expect(data.entity.memories.length).toBe(2);
      expect(data.entity.relationships.relationships.length).toBeGreaterThan(0);
      expect(idsOf(data.neighbours.entities)).toContain(aEntity('Slack').id);
      expect(idsOf(data.path.entities)).toEqual(
        expect.arrayContaining([productX.id, aEntity('Microsoft Teams').id]),
      );
    });
  });

  describe('internal routes', () => {
    const ROUTES: Record<string, (orgId: string) => Record<string, unknown>> = {
      '/internal/resolve': (orgId) => ({ orgId, items: [] }),
      '/internal/link': (orgId) => ({ orgId, links: [] }),
      '/internal/unlink': (orgId) => ({ orgId, memoryIds: [] }),
      '/internal/forget-actor': (orgId) => ({ orgId, actorId: 'nobody-here' }),
      '/internal/delete-org': (orgId) => ({ orgId }),
    };
    const post = (route: string, body: unknown, identity?: string) =>
      fetch(new URL(route, new URL(stack.subgraphUrls.entity!).origin), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(identity ? { [IDENTITY_HEADER]: identity } : {}) },
        body: JSON.stringify(body),
      });

    it('refuse requests without a signed service identity', async () => {
      const service: Identity = { kind: 'service', service: 'memory' };
      const forged = [
        undefined,
        'not-a-token',
        signIdentity(service, 'the-wrong-secret'),
        signIdentity(service, stack.internalSecret, Date.now() - 60 * 60_000),
      ];
      for (const route of Object.keys(ROUTES)) {
        // Aimed at B's graph: delete-org, forget-actor and unlink would destroy it if let through.
        const body = {
          ...ROUTES[route]!(b.orgId),
          actorId: b.actorId,
          memoryIds: [...graphs.b.memoryIds],
          items: [
            {
              key: 'k',
              scope: { level: 'ORG', id: b.orgId },
              chain: [],
              mentions: [{ name: 'Evil', type: 'TERM' }],
            },
          ],
        };
        for (const identity of forged) {
          const response = await post(route, body, identity);
          expect({ route, status: response.status }).toEqual({ route, status: 401 });
          expect(await response.json()).toEqual({ error: 'UNAUTHENTICATED' });
        }
      }
      expect(await snapshotEntityGraph(stack, b.adminKey)).toEqual(bBefore);
    });

    it('serve a correctly signed service identity (so the refusals above are not 404s)', async () => {
      const identity = signIdentity({ kind: 'service', service: 'memory' }, stack.internalSecret);
      for (const [route, body] of Object.entries(ROUTES)) {
        const response = await post(route, body('ent-iso-nobody'), identity);
        expect({ route, status: response.status }).toEqual({ route, status: 200 });
      }
    });

    it('the entity subgraph GraphQL endpoint refuses a request without an identity', async () => {
      const response = await fetch(stack.subgraphUrls.entity!, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ entities(orgId: "${b.orgId}") { nodes { id } } }` }),
      });
      const body = (await response.json()) as {
        data?: unknown;
        errors?: Array<{ extensions?: { code?: string } }>;
      };
      expect(body.data ?? null).toBeNull();
      expect(body.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    });
  });
});
