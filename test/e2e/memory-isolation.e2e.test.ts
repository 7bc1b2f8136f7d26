import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, type ObjectTypeDefinitionNode } from 'graphql';
import { createTenant, expectData, expectError, type Tenant } from '../support/hierarchy-fixtures';
import {
  CREATE_MEMORY,
  collectSubscription,
  createMemory,
  expectJobDone,
  ingestDocuments,
  ingestEvents,
  INGEST_DOCUMENTS,
  INGEST_EVENTS,
  JOB_FIELDS,
  JOB_PROGRESS,
  JOBS_QUERY,
  listJobs,
  listMemories,
  MEMORIES_QUERY,
  MEMORY_FIELDS,
  snapshotMemoryData,
  upsertActor,
  type Memory,
} from '../support/memory-fixtures';
import { startTestStack, type TestStack } from '../support/stack';

const SCHEMA_DIR = path.resolve(__dirname, '../../schema');
const ROOT_TYPES = ['Query', 'Mutation', 'Subscription'];

/** Object type definitions of a schema file, by name. */
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

/**
 * Every field the memory subgraph serves to clients: its Query, Mutation and Subscription
 * fields, and the fields it adds to entities of other subgraphs (e.g. Actor.memories).
 */
function memorySubgraphFields(): string[] {
  const memory = objectTypes('memory.graphql');
  const others = fs
    .readdirSync(SCHEMA_DIR)
    .filter((file) => file.endsWith('.graphql') && !['memory.graphql', 'supergraph.graphql'].includes(file))
    .map(objectTypes);
  const fields: string[] = [];
  for (const [name, type] of memory) {
    // The subgraph that owns a shared entity type defines most of its fields (Actor: the
    // hierarchy); a subgraph that only extends it (Memory in the entity subgraph) does not.
    const owner = others.find(
      (types) => types.has(name) && (types.get(name)!.fields?.length ?? 0) > (type.fields?.length ?? 0),
    );
    if (ROOT_TYPES.includes(name)) {
      fields.push(...(type.fields ?? []).map((field) => `${name}.${field.name.value}`));
    } else if (owner) {
      const ownFields = new Set((owner.get(name)!.fields ?? []).map((field) => field.name.value));
      fields.push(
        ...(type.fields ?? [])
          .filter((field) => !ownFields.has(field.name.value))
          .map((field) => `${name}.${field.name.value}`),
      );
    }
  }
  return fields.sort();
}

const DELETE_MEMORY = `mutation($id: ID!) { deleteMemory(id: $id) }`;
const FORGET_ACTOR = `mutation($orgId: ID, $actorId: ID!) {
  forgetActor(orgId: $orgId, actorId: $actorId) { actorId events memories vectors entityLinks }
}`;
const CONTEXT_QUERY = `query($orgId: ID, $actorId: ID!, $query: String!) {
  context(orgId: $orgId, actorId: $actorId, query: $query, limit: 50) { items { memory { id orgId } } }
}`;
const ACTOR_CONTEXT = `query($orgId: ID, $actorId: ID!, $query: String!) {
  actor(orgId: $orgId, actorId: $actorId) { context(query: $query, limit: 50) { items { memory { id orgId } } } }
}`;
const JOB_QUERY = `query($id: ID!) { job(jobId: $id) { ${JOB_FIELDS} } }`;
const MEMORY_QUERY = `query($id: ID!) { memory(id: $id) { ${MEMORY_FIELDS} history { id } } }`;
const PROMOTE = `mutation($orgId: ID, $dryRun: Boolean!) { promoteMemories(orgId: $orgId, dryRun: $dryRun) { jobId orgId } }`;
const PROMOTION_JOB = `query($jobId: ID!, $orgId: ID) { promotionJob(jobId: $jobId, orgId: $orgId) { jobId orgId proposals { sourceMemoryIds } } }`;
const PROMOTION_SETTINGS = `query($orgId: ID) { promotionSettings(orgId: $orgId) { orgId minActorSupport minScore intervalSeconds updatedAt } }`;
const UPDATE_PROMOTION_SETTINGS = `mutation($orgId: ID, $input: PromotionSettingsInput!) {
  updatePromotionSettings(orgId: $orgId, input: $input) { orgId minActorSupport }
}`;
const ACTOR_MEMORIES = `query($orgId: ID, $actorId: ID!) {
  actor(orgId: $orgId, actorId: $actorId) { actorId orgId memories(first: 500) { nodes { id orgId content scope { level id } } } }
}`;

describe('memory subgraph tenant isolation', () => {
  let stack: TestStack;
  let a: Tenant;
  let b: Tenant;
  /** What org B has: its jobs and memories, and the objects the probes aim at. */
  const bData = {
    jobIds: [] as string[],
    memoryIds: [] as string[],
    sharedActorMemoryIds: [] as string[],
    promotionJobId: '',
  };
  let bBefore: unknown;

  /** Everything of B, read with B's admin key (memories with history, jobs, actors' memories). */
  async function snapshotB() {
    const data = await snapshotMemoryData(stack, b.adminKey);
    const histories = [];
    for (const memory of data.memories) {
      histories.push(expectData(await stack.gql(MEMORY_QUERY, { id: memory.id }, b.adminKey)).memory);
    }
    const actors = [];
    for (const actorId of [b.actorId, 'shared-actor']) {
      actors.push(expectData(await stack.gql(ACTOR_MEMORIES, { actorId }, b.adminKey)).actor);
    }
    const promotion = expectData(await stack.gql(PROMOTION_SETTINGS, {}, b.adminKey)).promotionSettings;
    const promotionJob = expectData(
      await stack.gql(PROMOTION_JOB, { jobId: bData.promotionJobId }, b.adminKey),
    ).promotionJob;
    return { ...data, histories, actors, promotion, promotionJob };
  }

  beforeAll(async () => {
    stack = await startTestStack();
    [a, b] = await Promise.all([createTenant(stack, 'iso-a'), createTenant(stack, 'iso-b')]);
    await upsertActor(stack, a.adminKey, { actorId: 'shared-actor' });
    await upsertActor(stack, b.adminKey, { actorId: 'shared-actor' });

    // B: events, an org document, a team document, direct memories (one a document), a superseded fact.
    const jobs = [
      await ingestEvents(stack, b.memberKey, [
        { eventId: 'b-ev-1', actorId: b.actorId, content: 'My refund window is 30 days at Globex.' },
        { eventId: 'b-ev-2', actorId: 'shared-actor', content: 'I prefer dark mode in the Initech console.' },
      ]),
      await ingestDocuments(stack, b.adminKey, [
        { documentId: 'shared-doc', content: 'Org B keeps every invoice for ten years in the archive.' },
      ]),
      await ingestDocuments(
        stack,
        b.adminKey,
        [{ documentId: 'b-team-doc', content: 'The B platform team deploys on Thursdays.' }],
        { scope: { level: 'TEAM', teamId: b.teamId } },
      ),
    ];
    for (const job of jobs) await expectJobDone(stack, b.memberKey, job.jobId);
    const later = await ingestEvents(stack, b.memberKey, [
      { eventId: 'b-ev-3', actorId: b.actorId, content: 'My refund window is 45 days at Globex.' },
    ]);
    await expectJobDone(stack, b.memberKey, later.jobId);
    await createMemory(stack, b.memberKey, { content: 'B role memory.', roleId: b.roleId, infer: false });
    await createMemory(stack, b.adminKey, { content: 'B document memory.', documentId: 'b-direct-doc' });
    // B: its own promotion thresholds and a promotion run (a dry run: its jobs and proposals).
    expectData(
      await stack.gql(
        UPDATE_PROMOTION_SETTINGS,
        // intervalSeconds 0 (never): B's own schedule, and the stack's scheduler leaves B alone.
        { input: { minActorSupport: 5, minScore: 0.4, intervalSeconds: 0 } },
        b.adminKey,
      ),
    );
    bData.promotionJobId = expectData(
      await stack.gql(PROMOTE, { dryRun: true }, b.adminKey),
    ).promoteMemories.jobId;
    await expectJobDone(stack, b.adminKey, bData.promotionJobId);

    bData.jobIds = (await listJobs(stack, b.adminKey)).map((job) => job.jobId);
    const memories = await listMemories(stack, b.adminKey, { includeClosed: true });
    bData.memoryIds = memories.map((memory) => memory.id);
    bData.sharedActorMemoryIds = memories
      .filter((memory) => memory.scope.level === 'ACTOR' && memory.scope.id === 'shared-actor')
      .map((memory) => memory.id);
    expect(bData.jobIds.length).toBeGreaterThanOrEqual(5);
    expect(memories.some((memory) => memory.validTo !== null)).toBe(true);
    expect(bData.sharedActorMemoryIds).toHaveLength(1);

    // A: a memory of its own actor named like B's.
    await createMemory(stack, a.memberKey, {
      content: 'A shared-actor memory.',
      actorId: 'shared-actor',
      infer: false,
    });
    bBefore = await snapshotB();
  });
  afterAll(() => stack?.close());

  /** A's keys: every probe runs with both. */
  const keysOfA = () => [a.memberKey, a.adminKey];

  /** Asserts a list of A's memories holds nothing of B. */
  function expectNoneOfB(memories: Array<Pick<Memory, 'id' | 'orgId'>>) {
    for (const memory of memories) {
      expect(memory.orgId).toBe(a.orgId);
      expect(bData.memoryIds).not.toContain(memory.id);
    }
  }

  /** Field (as `Type.field`) → probes by A's keys against B. */
  const ISOLATION: Record<string, () => Promise<void>> = {
    'Mutation.ingestEvents': async () => {
      for (const key of keysOfA()) {
        const event = { actorId: a.actorId, sessionId: 's', kind: 'NOTE', content: 'Into B.' };
        expectError(await stack.gql(INGEST_EVENTS, { orgId: b.orgId, events: [event] }, key), 'FORBIDDEN');
        for (const other of [{ actorId: b.actorId }, { roleId: b.roleId }, { teamId: b.teamId }]) {
          expectError(await stack.gql(INGEST_EVENTS, { events: [{ ...event, ...other }] }, key), 'NOT_FOUND');
        }
      }
      // Event ids are per org: B's id in A is A's own new event, and B's event is left alone.
      const job = await ingestEvents(stack, a.memberKey, [
        { eventId: 'b-ev-2', actorId: 'shared-actor', content: 'A statement of org A about Acme.' },
      ]);
      expect(job.total).toBe(1);
      await expectJobDone(stack, a.memberKey, job.jobId);
      const mine = await listMemories(stack, a.memberKey, { actorId: 'shared-actor' });
      expect(mine.find((memory) => memory.provenance.eventIds.includes('b-ev-2'))!.orgId).toBe(a.orgId);
      expectNoneOfB(mine);
    },

    'Mutation.ingestDocuments': async () => {
      const documents = [{ documentId: 'a-doc', content: 'Into B.' }];
      for (const key of [a.adminKey, a.memberKey]) {
        expectError(await stack.gql(INGEST_DOCUMENTS, { orgId: b.orgId, documents }, key), 'FORBIDDEN');
        for (const scope of [
          { level: 'TEAM', teamId: b.teamId },
          { level: 'ROLE', roleId: b.roleId },
        ]) {
          expectError(await stack.gql(INGEST_DOCUMENTS, { documents, scope }, key), 'NOT_FOUND');
        }
      }
      // Document ids are per org: B's documentId in A is A's own first version.
      const job = await ingestDocuments(stack, a.adminKey, [
        { documentId: 'shared-doc', content: 'Org A keeps invoices for seven years.' },
      ]);
      expect(job.total).toBe(1);
      await expectJobDone(stack, a.adminKey, job.jobId);
      const mine = await listMemories(stack, a.memberKey, { documentId: 'shared-doc', includeClosed: true });
      expect(mine.map((memory) => memory.provenance.documentVersion)).toEqual([1]);
      expectNoneOfB(mine);
    },

    'Mutation.createMemory': async () => {
      for (const key of keysOfA()) {
        const input = { content: 'Into B.', infer: false };
        expectError(
          await stack.gql(CREATE_MEMORY, { input: { ...input, orgId: b.orgId } }, key),
          'FORBIDDEN',
        );
        for (const other of [{ actorId: b.actorId }, { roleId: b.roleId }, { teamId: b.teamId }]) {
          expectError(await stack.gql(CREATE_MEMORY, { input: { ...input, ...other } }, key), 'NOT_FOUND');
        }
      }
      const own = await createMemory(stack, a.adminKey, {
        content: 'A direct document.',
        documentId: 'b-direct-doc',
      });
      expect(own).toMatchObject({
        orgId: a.orgId,
        provenance: { documentId: 'b-direct-doc', documentVersion: 1 },
      });
    },

    'Query.job': async () => {
      for (const key of keysOfA()) {
        for (const jobId of bData.jobIds)
          expectError(await stack.gql(JOB_QUERY, { id: jobId }, key), 'NOT_FOUND');
      }
      // B's own key reads the same jobs (the ids are real).
      expect(expectData(await stack.gql(JOB_QUERY, { id: bData.jobIds[0] }, b.memberKey)).job.orgId).toBe(
        b.orgId,
      );
    },

    'Query.jobs': async () => {
      for (const key of keysOfA()) {
        expectError(await stack.gql(JOBS_QUERY, { orgId: b.orgId }, key), 'FORBIDDEN');
        for (const status of [undefined, 'DONE']) {
          const data = expectData(await stack.gql(JOBS_QUERY, { status, first: 500 }, key));
          const ids = data.jobs.nodes.map((job: { jobId: string; orgId: string }) => {
            expect(job.orgId).toBe(a.orgId);
            return job.jobId;
          });
          for (const jobId of bData.jobIds) expect(ids).not.toContain(jobId);
        }
      }
    },

    'Query.memories': async () => {
      for (const key of keysOfA()) {
        expectError(await stack.gql(MEMORIES_QUERY, { orgId: b.orgId }, key), 'FORBIDDEN');
        for (const filter of [
          { includeClosed: true },
          { actorId: b.actorId, includeClosed: true },
          { actorId: 'shared-actor', includeClosed: true },
          { teamId: b.teamId },
          { roleId: b.roleId },
          { level: 'ORG', includeClosed: true },
          { documentId: 'shared-doc', includeClosed: true },
          { documentId: 'b-team-doc' },
        ]) {
          expectNoneOfB(await listMemories(stack, key, filter));
        }
      }
    },

    'Query.memory': async () => {
      for (const key of keysOfA()) {
        for (const id of bData.memoryIds)
          expectError(await stack.gql(MEMORY_QUERY, { id }, key), 'NOT_FOUND');
      }
    },

    'Mutation.deleteMemory': async () => {
      for (const key of keysOfA()) {
        for (const id of bData.memoryIds)
          expectError(await stack.gql(DELETE_MEMORY, { id }, key), 'NOT_FOUND');
      }
    },

    'Subscription.jobProgress': async () => {
      for (const key of keysOfA()) {
        const outcome = await collectSubscription(stack, key, JOB_PROGRESS, { jobId: bData.jobIds[0] });
        expect(
          outcome.results.flatMap((result) => result.errors ?? []).map((e) => e.extensions?.code),
        ).toEqual(['NOT_FOUND']);
        expect(outcome.results.every((result) => !result.data)).toBe(true);
      }
      const own = await collectSubscription(stack, b.memberKey, JOB_PROGRESS, { jobId: bData.jobIds[0] });
      expect(own.results).toHaveLength(1);
      expect(own.results[0]!.data!.jobProgress).toMatchObject({ jobId: bData.jobIds[0], status: 'DONE' });
    },

    'Query.context': async () => {
      for (const key of keysOfA()) {
        expectError(
          await stack.gql(CONTEXT_QUERY, { orgId: b.orgId, actorId: b.actorId, query: 'shared' }, key),
          'FORBIDDEN',
        );
        expectError(
          await stack.gql(CONTEXT_QUERY, { actorId: b.actorId, query: 'shared' }, key),
          'NOT_FOUND',
        );
        // The actor id both orgs use: only A's memories (A's actor chain) ever come back.
        const shared = expectData(
          await stack.gql(CONTEXT_QUERY, { actorId: 'shared-actor', query: 'shared document memory' }, key),
        ).context;
        expect(shared.items.length).toBeGreaterThan(0);
        expectNoneOfB(shared.items.map((item: { memory: Pick<Memory, 'id' | 'orgId'> }) => item.memory));
      }
    },

    'Actor.context': async () => {
      for (const key of keysOfA()) {
        expectError(
          await stack.gql(ACTOR_CONTEXT, { orgId: b.orgId, actorId: b.actorId, query: 'shared' }, key),
          'FORBIDDEN',
        );
        expectError(
          await stack.gql(ACTOR_CONTEXT, { actorId: b.actorId, query: 'shared' }, key),
          'NOT_FOUND',
        );
        const shared = expectData(
          await stack.gql(ACTOR_CONTEXT, { actorId: 'shared-actor', query: 'shared document memory' }, key),
        ).actor.context;
        expect(shared.items.length).toBeGreaterThan(0);
        expectNoneOfB(shared.items.map((item: { memory: Pick<Memory, 'id' | 'orgId'> }) => item.memory));
      }
    },

    'Mutation.invalidateContextCache': async () => {
      for (const key of keysOfA()) {
        expectError(
          await stack.gql(
            `mutation($orgId: ID) { invalidateContextCache(orgId: $orgId) }`,
            { orgId: b.orgId },
            key,
          ),
          'FORBIDDEN',
        );
      }
      // A's own invalidation is allowed and touches only A.
      expect(expectData(await stack.gql(`mutation { invalidateContextCache }`, {}, a.adminKey))).toEqual({
        invalidateContextCache: true,
      });
    },

    'Actor.memories': async () => {
      for (const key of keysOfA()) {
        expectError(
          await stack.gql(ACTOR_MEMORIES, { orgId: b.orgId, actorId: b.actorId }, key),
          'FORBIDDEN',
        );
        expectError(await stack.gql(ACTOR_MEMORIES, { actorId: b.actorId }, key), 'NOT_FOUND');
        // The actor id both orgs use: A sees its own actor's memories only.
        const shared = expectData(await stack.gql(ACTOR_MEMORIES, { actorId: 'shared-actor' }, key)).actor;
        expect(shared.orgId).toBe(a.orgId);
        expect(shared.memories.nodes.length).toBeGreaterThan(0);
        expectNoneOfB(shared.memories.nodes);
        const all = expectData(
          await stack.gql(
            `{ actors(first: 500) { nodes { orgId memories(first: 500) { nodes { id orgId } } } } }`,
            {},
            key,
          ),
        );
        for (const actor of all.actors.nodes) {
          expect(actor.orgId).toBe(a.orgId);
          expectNoneOfB(actor.memories.nodes);
        }
        // Entities cannot be fetched by representation through the gateway.
        const entities = await stack.gql(
          `query($r: [_Any!]!) { _entities(representations: $r) { ... on Actor { memories { nodes { id } } } } }`,
          { r: [{ __typename: 'Actor', actorId: 'shared-actor', orgId: b.orgId }] },
          key,
        );
        expect(entities.data ?? null).toBeNull();
        expect(entities.errors?.length).toBeGreaterThan(0);
      }
    },

    'Mutation.promoteMemories': async () => {
      for (const key of keysOfA()) {
        for (const dryRun of [true, false])
          expectError(await stack.gql(PROMOTE, { orgId: b.orgId, dryRun }, key), 'FORBIDDEN');
      }
      // A's own run (applied) promotes within A only: B's memories and jobs stay as they were.
      const own = expectData(await stack.gql(PROMOTE, { dryRun: false }, a.adminKey)).promoteMemories;
      expect(own.orgId).toBe(a.orgId);
      await expectJobDone(stack, a.adminKey, own.jobId);
      const run = expectData(await stack.gql(PROMOTION_JOB, { jobId: own.jobId }, a.adminKey)).promotionJob;
      for (const proposal of run.proposals)
        for (const id of proposal.sourceMemoryIds) expect(bData.memoryIds).not.toContain(id);
    },

    'Query.promotionJob': async () => {
      for (const key of keysOfA()) {
        expectError(await stack.gql(PROMOTION_JOB, { jobId: bData.promotionJobId }, key), 'NOT_FOUND');
        expectError(
          await stack.gql(PROMOTION_JOB, { jobId: bData.promotionJobId, orgId: b.orgId }, key),
          'FORBIDDEN',
        );
        expectError(
          await stack.gql(PROMOTION_JOB, { jobId: bData.promotionJobId, orgId: a.orgId }, key),
          key === a.adminKey ? 'NOT_FOUND' : 'FORBIDDEN',
        );
      }
      // B's own admin key reads it (the id is real).
      expect(
        expectData(await stack.gql(PROMOTION_JOB, { jobId: bData.promotionJobId }, b.adminKey)).promotionJob
          .orgId,
      ).toBe(b.orgId);
    },

    'Query.promotionSettings': async () => {
      for (const key of keysOfA())
        expectError(await stack.gql(PROMOTION_SETTINGS, { orgId: b.orgId }, key), 'FORBIDDEN');
      // A's own settings are A's defaults, not B's values.
      expect(expectData(await stack.gql(PROMOTION_SETTINGS, {}, a.adminKey)).promotionSettings).toMatchObject(
        {
          orgId: a.orgId,
          minActorSupport: 3,
          intervalSeconds: null,
          updatedAt: null,
        },
      );
    },

    'Mutation.updatePromotionSettings': async () => {
      for (const key of keysOfA()) {
        expectError(
          await stack.gql(UPDATE_PROMOTION_SETTINGS, { orgId: b.orgId, input: { minActorSupport: 9 } }, key),
          'FORBIDDEN',
        );
        expectError(
          await stack.gql(UPDATE_PROMOTION_SETTINGS, { orgId: b.orgId, input: { intervalSeconds: 5 } }, key),
          'FORBIDDEN',
        );
      }
      const own = expectData(
        await stack.gql(UPDATE_PROMOTION_SETTINGS, { input: { minActorSupport: 9 } }, a.adminKey),
      ).updatePromotionSettings;
      expect(own).toEqual({ orgId: a.orgId, minActorSupport: 9 });
      expectData(
        await stack.gql(UPDATE_PROMOTION_SETTINGS, { input: { minActorSupport: null } }, a.adminKey),
      );
    },

    'Mutation.forgetActor': async () => {
      expectError(
        await stack.gql(FORGET_ACTOR, { orgId: b.orgId, actorId: b.actorId }, a.adminKey),
        'FORBIDDEN',
      );
      expectError(
        await stack.gql(FORGET_ACTOR, { orgId: b.orgId, actorId: b.actorId }, a.memberKey),
        'FORBIDDEN',
      );
      // An actor only B has: nothing of A to forget, nothing of B touched.
      expect(
        expectData(await stack.gql(FORGET_ACTOR, { actorId: b.actorId }, a.adminKey)).forgetActor,
      ).toEqual({
        actorId: b.actorId,
        events: 0,
        memories: 0,
        vectors: 0,
        entityLinks: 0,
      });
      // The actor id both orgs use: only A's side is forgotten.
      const mine = await listMemories(stack, a.memberKey, { actorId: 'shared-actor', includeClosed: true });
      expect(mine.length).toBeGreaterThan(0);
      const result = expectData(
        await stack.gql(FORGET_ACTOR, { actorId: 'shared-actor' }, a.adminKey),
      ).forgetActor;
      expect(result.memories).toBe(mine.length);
      expect(
        await listMemories(stack, a.memberKey, { actorId: 'shared-actor', includeClosed: true }),
      ).toEqual([]);
    },
  };

  it('covers every field the memory subgraph serves (schema/memory.graphql) with an isolation test', () => {
    const fields = memorySubgraphFields();
    expect(fields).toEqual(
      expect.arrayContaining(['Query.memories', 'Subscription.jobProgress', 'Actor.memories']),
    );
    expect(Object.keys(ISOLATION).sort()).toEqual(fields);
  });

  it.each(Object.keys(ISOLATION))(
    "%s: org A's keys can neither read nor change org B's data",
    async (field) => {
      await ISOLATION[field]!();
      expect(await snapshotB()).toEqual(bBefore);
    },
  );
});
