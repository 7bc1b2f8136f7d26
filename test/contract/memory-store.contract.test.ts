import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { openSubgraphDatabase } from '../../common/db/data-source';
import { MEMORY_DATABASE } from '../../subgraphs/memory';
import type { WorkPayload } from '../../subgraphs/memory/queue/job-queue';
import { contentHash } from '../../subgraphs/memory/services/content';
import type {
  Job,
  JobStatus,
  Memory,
  MemoryFilter,
  MemoryStore,
  ContextCandidates,
  ContextSearch,
  NewMemory,
  Scope,
  StoredEvent,
} from '../../subgraphs/memory/storage/memory-store';
import { PostgresMemoryStore } from '../../subgraphs/memory/storage/postgres-memory-store';
import { DATABASE_TARGETS, reportServerTarget, unique } from '../support/database';

/**
 * Contract suite of the MemoryStore port (events, memories with vectors, history, forgetting,
 * jobs), run against every configured target of its Postgres adapter: always the embedded
 * Postgres (PGlite behind the socket server), and a Postgres server when DATABASE_URL is set.
 */

reportServerTarget('MemoryStore contract');

const T0 = new Date('2030-01-01T00:00:00.000Z');
function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

/** A unit vector from raw components. */
function unit(...values: number[]): Float32Array {
  const norm = Math.hypot(...values);
  return Float32Array.from(values.map((value) => value / norm));
}

function event(orgId: string, eventId: string, overrides: Partial<StoredEvent> = {}): StoredEvent {
  return {
    orgId,
    eventId,
    actorId: 'u1',
    sessionId: 's1',
    kind: 'USER_MESSAGE',
    content: `content of ${eventId}`,
    roleId: null,
    teamId: null,
    occurredAt: at(1),
    metadata: {},
    ...overrides,
  };
}

const ACTOR_U1: Scope = { level: 'ACTOR', id: 'u1' };

function memory(orgId: string, content: string, overrides: Partial<NewMemory> = {}): NewMemory {
  const scope = overrides.scope ?? ACTOR_U1;
  return {
    orgId,
    scope,
    actorId: scope.level === 'ACTOR' ? scope.id : null,
    content,
    contentHash: contentHash(content),
    category: 'FACT',
    embedding: null,
    embeddingModel: null,
    provenance: {
      eventIds: [],
      documentId: null,
      documentVersion: null,
      chunkIndex: null,
      sourceMemoryIds: [],
    },
    validFrom: at(0),
    expiresAt: null,
    metadata: {},
    mentions: [],
    ...overrides,
  };
}

function chunk(
  orgId: string,
  documentId: string,
  version: number,
  index: number,
  content: string,
): NewMemory {
  return memory(orgId, content, {
    scope: { level: 'ORG', id: orgId },
    category: 'DOCUMENT',
    provenance: {
      eventIds: [],
      documentId,
      documentVersion: version,
      chunkIndex: index,
      sourceMemoryIds: [],
    },
  });
}

function makeJob(orgId: string, overrides: Partial<Job> = {}): Job {
  return {
    jobId: unique('job'),
    orgId,
    kind: 'INGEST_EVENTS',
    priority: 'REALTIME',
    status: 'QUEUED',
    stage: 'queued',
    processed: 0,
    failed: 0,
    total: 0,
    errors: [],
    message: null,
    createdAt: at(0),
    startedAt: null,
    finishedAt: null,
    updatedAt: at(0),
    ...overrides,
  };
}

const PAST = () => new Date(Date.now() - 60_000);
const FUTURE = () => new Date(Date.now() + 3_600_000);

function byKey(a: Memory, b: Memory): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

describe.each(DATABASE_TARGETS)('MemoryStore contract on $name', (target) => {
  let dataSource: DataSource;
  let close: () => Promise<void>;
  let store: MemoryStore;

  beforeAll(async () => {
    const database = await target.open();
    close = database.close;
    try {
      dataSource = await openSubgraphDatabase(database.target, MEMORY_DATABASE);
    } catch (error) {
      await close();
      throw error;
    }
    store = new PostgresMemoryStore(dataSource, dataSource);
  });
  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await close?.();
  });

  async function insert(newMemory: NewMemory): Promise<string> {
    const { id, inserted } = await store.insertMemory(newMemory);
    expect(inserted).toBe(true);
    return id;
  }

  async function get(id: string): Promise<Memory> {
    const [found] = await store.getMemories([id]);
    if (!found) throw new Error(`memory ${id} not found`);
    return found;
  }

  async function list(filter: MemoryFilter): Promise<string[]> {
    return (await store.listMemories(filter, { first: 1000 })).map((m) => m.id).sort();
  }

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  describe('events', () => {
    it('insertEvents skips ids the org already has and returns only the new ones', async () => {
      const orgA = unique('org');
      const orgB = unique('org');
      const first = event(orgA, 'e1', {
        roleId: 'role-1',
        teamId: 'team-1',
        kind: 'NOTE',
        metadata: { source: 'slack', n: 1 },
        occurredAt: at(42),
      });
      expect(await store.insertEvents([first, event(orgA, 'e2')], 'job-1')).toEqual(['e1', 'e2']);

      const again = await store.insertEvents(
        [event(orgA, 'e2', { content: 'changed' }), event(orgA, 'e3'), event(orgA, 'e1')],
        'job-2',
      );
      expect(again).toEqual(['e3']);
      expect(await store.insertEvents([event(orgA, 'e1')], 'job-3')).toEqual([]);
      expect(await store.insertEvents([], 'job-4')).toEqual([]);
      // The same id in another org is another event.
      expect(await store.insertEvents([event(orgB, 'e1')], 'job-5')).toEqual(['e1']);

      const stored = await store.getEvents(orgA, ['e1', 'e2', 'e3', 'missing']);
      expect(stored.sort((a, b) => a.eventId.localeCompare(b.eventId))).toEqual([
        first,
        event(orgA, 'e2'), // the first version stays: a re-sent id changes nothing
        event(orgA, 'e3'),
      ]);
      expect(await store.getEvents(orgB, ['e1', 'e2'])).toEqual([event(orgB, 'e1')]);
      expect(await store.getEvents(orgA, [])).toEqual([]);
    });
  });

  describe('memories', () => {
    it('insertMemory stores every field and its mentions', async () => {
      const orgId = unique('org');
      const newMemory = memory(orgId, 'Ada prefers dark mode in Product X', {
        category: 'PREFERENCE',
        embedding: unit(1, 2, 3),
        embeddingModel: 'model-a',
        provenance: {
          eventIds: ['e1'],
          documentId: null,
          documentVersion: null,
          chunkIndex: null,
          sourceMemoryIds: [],
        },
        validFrom: at(5),
        expiresAt: FUTURE(),
        metadata: { sessionId: 's1' },
        mentions: [
          { name: 'Ada', type: 'PERSON' },
          { name: 'Product X', type: 'PRODUCT' },
        ],
      });
      const id = await insert(newMemory);
      expect(await get(id)).toEqual({
        id,
        orgId,
        scope: ACTOR_U1,
        actorId: 'u1',
        content: newMemory.content,
        category: 'PREFERENCE',
        embeddingModel: 'model-a',
        provenance: newMemory.provenance,
        validFrom: at(5),
        validTo: null,
        supersededBy: null,
        expiresAt: newMemory.expiresAt,
        createdAt: expect.any(Date),
        metadata: { sessionId: 's1' },
      });
      expect((await store.mentions([id])).get(id)).toEqual([
        { name: 'Ada', type: 'PERSON' },
        { name: 'Product X', type: 'PRODUCT' },
      ]);
    });

    it('an exact duplicate at the same scope merges event provenance (inserted false)', async () => {
      const orgId = unique('org');
      const original = memory(orgId, 'The build server is in Lisbon', {
        provenance: {
          eventIds: ['e1'],
          documentId: null,
          documentVersion: null,
          chunkIndex: null,
          sourceMemoryIds: [],
        },
        mentions: [{ name: 'Lisbon', type: 'PLACE' }],
      });
      const id = await insert(original);

      const repeat = await store.insertMemory({
        ...original,
        category: 'EPISODE',
        provenance: { ...original.provenance, eventIds: ['e2', 'e1'] },
        mentions: [{ name: 'Build server', type: 'TERM' }],
      });
      expect(repeat).toEqual({ id, inserted: false });
      const merged = await get(id);
      expect([...merged.provenance.eventIds].sort()).toEqual(['e1', 'e2']);
      expect(merged.category).toBe('FACT'); // the first write stays; only provenance grows
      expect((await store.mentions([id])).get(id)).toEqual([{ name: 'Lisbon', type: 'PLACE' }]);
      expect(await list({ orgId })).toEqual([id]);

      // Same content elsewhere is another memory: another scope, another org.
      const otherScope = await store.insertMemory({ ...original, scope: { level: 'ACTOR', id: 'u2' } });
      expect(otherScope.inserted).toBe(true);
      const otherOrg = await store.insertMemory({ ...original, orgId: unique('org') });
      expect(otherOrg.inserted).toBe(true);
      expect(new Set([id, otherScope.id, otherOrg.id]).size).toBe(3);

      // Once closed, the content may be stated again as a new current memory.
      await store.closeMemory(id, null, at(10));
      const restated = await store.insertMemory(original);
      expect(restated.inserted).toBe(true);
      expect(restated.id).not.toBe(id);
    });

    it('addEventProvenance adds ids once', async () => {
      const orgId = unique('org');
      const id = await insert(
        memory(orgId, 'Deploys happen on Tuesdays', {
          provenance: {
            eventIds: ['e1'],
            documentId: null,
            documentVersion: null,
            chunkIndex: null,
            sourceMemoryIds: [],
          },
        }),
      );
      await store.addEventProvenance(id, ['e2', 'e1', 'e3']);
      await store.addEventProvenance(id, ['e3']);
      expect([...(await get(id)).provenance.eventIds].sort()).toEqual(['e1', 'e2', 'e3']);
    });

    it('a repeated document chunk is a no-op: same id, nothing changed', async () => {
      const orgId = unique('org');
      const first = chunk(orgId, 'doc-1', 1, 0, 'Refunds are accepted within 30 days.');
      const id = await insert(first);
      const before = await get(id);

      const repeat = await store.insertMemory({
        ...chunk(orgId, 'doc-1', 1, 0, 'Refunds are accepted within 45 days.'),
        mentions: [{ name: 'Refunds', type: 'TERM' }],
      });
      expect(repeat).toEqual({ id, inserted: false });
      expect(await get(id)).toEqual(before);
      expect((await store.mentions([id])).get(id)).toEqual([]);

      // Another chunk index, or the same index of the next version, is a new memory.
      const next = await insert(chunk(orgId, 'doc-1', 1, 1, 'Refunds are accepted within 30 days.'));
      const v2 = await insert(chunk(orgId, 'doc-1', 2, 0, 'Refunds are accepted within 45 days.'));
      expect(new Set([id, next, v2]).size).toBe(3);
      expect(
        (await store.documentMemories(orgId, 'doc-1', 1)).sort((a, b) => a.chunkIndex - b.chunkIndex),
      ).toEqual([
        { id, chunkIndex: 0 },
        { id: next, chunkIndex: 1 },
      ]);
      expect(await store.documentMemories(orgId, 'doc-1', 2)).toEqual([{ id: v2, chunkIndex: 0 }]);
      await store.closeMemory(id, v2, at(20));
      expect(await store.documentMemories(orgId, 'doc-1', 1)).toEqual([{ id: next, chunkIndex: 1 }]);
    });

    it('closeMemory keeps history: A superseded by B superseded by C gives history(C) = [A, B]', async () => {
      const orgId = unique('org');
      const a = await insert(memory(orgId, 'My team has 5 engineers', { validFrom: at(1) }));
      const b = await insert(memory(orgId, 'My team has 6 engineers', { validFrom: at(2) }));
      const c = await insert(memory(orgId, 'My team has 7 engineers', { validFrom: at(3) }));
      await store.closeMemory(a, b, at(2));
      await store.closeMemory(b, c, at(3));

      const closedA = await get(a);
      expect(closedA).toMatchObject({ validTo: at(2), supersededBy: b });
      expect(await get(b)).toMatchObject({ validTo: at(3), supersededBy: c });
      expect(await get(c)).toMatchObject({ validTo: null, supersededBy: null });

      // Closing is done once: a later close of a closed memory changes nothing.
      await store.closeMemory(a, c, at(9));
      expect(await get(a)).toEqual(closedA);

      const unknown = randomUUID();
      const history = await store.history([c, b, a, unknown]);
      expect(history.get(c)!.map((m) => m.id)).toEqual([a, b]);
      expect(history.get(c)![0]).toEqual(closedA);
      expect(history.get(b)!.map((m) => m.id)).toEqual([a]);
      expect(history.get(a)).toEqual([]);
      expect(history.get(unknown) ?? []).toEqual([]);
      expect((await store.history([])).size).toBe(0);

      // Only the current one is listed by default; the closed ones with includeClosed.
      expect(await list({ orgId })).toEqual([c]);
      expect(await list({ orgId, includeClosed: true })).toEqual([a, b, c].sort());
    });

    it('history leaves out expired memories but still follows the chain through them', async () => {
      const orgId = unique('org');
      const a = await insert(memory(orgId, 'The office is in Porto', { validFrom: at(1) }));
      const b = await insert(
        memory(orgId, 'The office is in Braga', { validFrom: at(2), expiresAt: PAST() }),
      );
      const c = await insert(memory(orgId, 'The office is in Faro', { validFrom: at(3) }));
      await store.closeMemory(a, b, at(2));
      await store.closeMemory(b, c, at(3));

      expect((await store.history([c])).get(c)!.map((m) => m.id)).toEqual([a]);
    });

    it('findSimilar: same scope, same model, current, unexpired, non-document, by similarity', async () => {
      const orgId = unique('org');
      const model = 'model-a';
      const withVector = (content: string, vector: Float32Array, overrides: Partial<NewMemory> = {}) =>
        memory(orgId, content, { embedding: vector, embeddingModel: model, ...overrides });

      const best = await insert(withVector('best', unit(1, 0, 0)));
      const good = await insert(withVector('good', unit(1, 1, 0)));
      const orthogonal = await insert(withVector('orthogonal', unit(0, 1, 0)));
      const opposite = await insert(withVector('opposite', unit(-1, 0, 0)));
      // Each of these would be the nearest, were it eligible.
      await insert(withVector('another actor', unit(1, 0, 0), { scope: { level: 'ACTOR', id: 'u2' } }));
      await insert(withVector('another model', unit(1, 0, 0), { embeddingModel: 'model-b' }));
      await insert(
        withVector('another model, other size', unit(1, 0, 0, 0, 0), { embeddingModel: 'model-c' }),
      );
      const closed = await insert(withVector('closed', unit(1, 0, 0)));
      await store.closeMemory(closed, best, at(5));
      await insert(withVector('expired', unit(1, 0, 0), { expiresAt: PAST() }));
      await insert(withVector('no vector', unit(1, 0, 0), { embedding: null, embeddingModel: null }));
      await insert({ ...withVector('another org', unit(1, 0, 0)), orgId: unique('org') });
      const notYetExpired = await insert(withVector('expires later', unit(1, 0, 2), { expiresAt: FUTURE() }));

      const found = await store.findSimilar(orgId, ACTOR_U1, model, unit(1, 0, 0), 10);
      expect(found.map((m) => m.content)).toEqual([
        'best',
        'good',
        'expires later',
        'orthogonal',
        'opposite',
      ]);
      expect(found.map((m) => m.id)).toEqual([best, good, notYetExpired, orthogonal, opposite]);
      expect(found[0]).toEqual({
        id: best,
        content: 'best',
        category: 'FACT',
        similarity: expect.any(Number),
      });
      const similarities = found.map((m) => m.similarity);
      expect(similarities[0]).toBeCloseTo(1, 5);
      expect(similarities[1]).toBeCloseTo(Math.SQRT1_2, 5);
      expect(similarities[2]).toBeCloseTo(1 / Math.sqrt(5), 5);
      expect(similarities[3]).toBeCloseTo(0, 5);
      expect(similarities[4]).toBeCloseTo(-1, 5);

      expect((await store.findSimilar(orgId, ACTOR_U1, model, unit(1, 0, 0), 2)).map((m) => m.id)).toEqual([
        best,
        good,
      ]);
      expect(await store.findSimilar(orgId, ACTOR_U1, 'model-unknown', unit(1, 0, 0), 10)).toEqual([]);
      const other = await store.findSimilar(orgId, ACTOR_U1, 'model-c', unit(0, 1, 0, 0, 0), 10);
      expect(other.map((m) => m.content)).toEqual(['another model, other size']);
    });

    it('findSimilar never returns document chunks', async () => {
      const orgId = unique('org');
      const orgScope: Scope = { level: 'ORG', id: orgId };
      await insert({
        ...chunk(orgId, 'handbook', 1, 0, 'Chunk text'),
        embedding: unit(1, 0),
        embeddingModel: 'model-a',
      });
      const fact = await insert(
        memory(orgId, 'A fact at org scope', {
          scope: orgScope,
          embedding: unit(0, 1),
          embeddingModel: 'model-a',
        }),
      );
      const found = await store.findSimilar(orgId, orgScope, 'model-a', unit(1, 0), 10);
      expect(found.map((m) => m.id)).toEqual([fact]);
    });

    describe('searchContext', () => {
      const model = 'model-a';
      const search = (orgId: string, scopes: Scope[], overrides: Partial<ContextSearch> = {}) =>
        store.searchContext({
          orgId,
          scopes,
          embeddingModel: model,
          queryVector: unit(1, 0, 0),
          lexicalQuery: 'refund | invoice',
          entityNames: ['acme corp'],
          asOf: at(10),
          limit: 2,
          ...overrides,
        });
      const vec = (content: string, vector: Float32Array, overrides: Partial<NewMemory> = {}) =>
        memory('', content, { embedding: vector, embeddingModel: model, ...overrides });

      it('returns the best `limit` of every scope per signal, with the memories, and nothing outside the chain', async () => {
        const orgId = unique('org');
        const orgScope: Scope = { level: 'ORG', id: orgId };
        const put = (m: NewMemory) => insert({ ...m, orgId });
        const a1 = await put(vec('actor best', unit(1, 0.1, 0)));
        const a2 = await put(vec('actor second', unit(1, 0.5, 0)));
        await put(vec('actor third', unit(1, 2, 0)));
        const o1 = await put(vec('org best', unit(1, 0.2, 0), { scope: orgScope }));
        const o2 = await put(vec('org second', unit(1, 0.9, 0), { scope: orgScope }));
        await put(vec('org third', unit(0, 1, 0), { scope: orgScope }));
        // Outside the chain, another model, another org, closed, expired, not yet valid.
        await put(vec('other actor', unit(1, 0, 0), { scope: { level: 'ACTOR', id: 'u2' } }));
        await put(vec('other model', unit(1, 0, 0), { embeddingModel: 'model-b' }));
        await insert({ ...vec('other org', unit(1, 0, 0)), orgId: unique('org') });
        const closed = await put(vec('closed', unit(1, 0, 0)));
        await store.closeMemory(closed, null, at(5));
        await put(vec('expired', unit(1, 0, 0), { expiresAt: PAST() }));
        await put(vec('not yet valid', unit(1, 0, 0), { validFrom: at(20) }));

        const found = await search(orgId, [ACTOR_U1, orgScope]);
        expect(found.vector.map((hit) => hit.id)).toEqual([a1, o1, a2, o2]);
        expect(found.vector[0]!.similarity).toBeCloseTo(1 / Math.hypot(1, 0.1), 5);
        expect(found.memories.get(o2)).toMatchObject({ content: 'org second', scope: orgScope });
        expect([...found.memories.keys()].sort()).toEqual([a1, a2, o1, o2].sort());

        // A scope's list does not depend on the scopes searched with it.
        const orgOnly = await search(orgId, [orgScope]);
        expect(orgOnly.vector.map((hit) => hit.id)).toEqual([o1, o2]);

        // asOf: the closed memory was valid before it was closed.
        const before = await search(orgId, [ACTOR_U1], { asOf: at(3), limit: 10 });
        expect(before.vector.map((hit) => hit.id)).toContain(closed);
        expect((await search(orgId, [], {})).vector).toEqual([]);
      });

      it('keeps a row with a 512-d embedding whole in the heap (scans read no TOAST)', async () => {
        const orgId = unique('org');
        const wide = Float32Array.from({ length: 512 }, (_, i) => ((i * 37) % 101) / 101 - 0.5);
        // About 1 KB of text: with the vector, well past the default 2 KB TOAST threshold.
        const content = Array.from({ length: 60 }, (_, i) => `policy clause ${i * 7919}`).join(', ');
        const id = await insert({ ...vec(content, wide), orgId });
        const rows = (await dataSource.query(
          `SELECT pg_column_toast_chunk_id(embedding) AS embedding, pg_column_toast_chunk_id(content) AS content,
             pg_column_toast_chunk_id(search) AS search, vector_dims(embedding) AS dims
           FROM memory.memories WHERE id = $1`,
          [id],
        )) as Array<Record<string, unknown>>;
        expect(rows).toEqual([{ embedding: null, content: null, search: null, dims: 512 }]);
      });

      it('searches an ORG scope past the size threshold through the HNSW index, with the same neighbours', async () => {
        const hnswModel = 'model-hnsw';
        const dims = 16;
        const approximate = new PostgresMemoryStore(dataSource, dataSource, { hnswMinRows: 100 });
        const exactOnly = new PostgresMemoryStore(dataSource, dataSource, { hnswMinRows: 1_000_000 });
        expect(await approximate.ensureVectorIndex(hnswModel, dims)).toBe(true);
        expect(await approximate.ensureVectorIndex("model'; DROP TABLE x; --", dims)).toBe(false);
        let seed = 11;
        const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647) * 2 - 1;
        const randomVector = () => unit(...Array.from({ length: dims }, random));
        const orgId = unique('org');
        const orgScope: Scope = { level: 'ORG', id: orgId };
        for (const [org, scope, count] of [
          [orgId, orgScope, 150],
          [unique('org'), null, 150], // another org's ORG scope, in the same index
          [orgId, ACTOR_U1, 20],
        ] as const)
          for (let i = 0; i < count; i++)
            await insert({
              ...memory(org, `memory ${i} of ${org}`, {
                embedding: randomVector(),
                embeddingModel: hnswModel,
                scope: scope ?? { level: 'ORG', id: org },
              }),
            });
        await dataSource.query('ANALYZE memory.memories');
        // Statistics are flushed at most once a second unless forced.
        const indexScans = async () => {
          await dataSource.query('SELECT pg_stat_force_next_flush()');
          await dataSource.query('SELECT 1');
          return Number(
            (
              (await dataSource.query(
                `SELECT coalesce(sum(idx_scan), 0) AS scans FROM pg_stat_user_indexes WHERE indexrelname LIKE 'memories_hnsw_%'`,
              )) as Array<{ scans: string }>
            )[0]!.scans,
          );
        };
        const request = {
          orgId,
          scopes: [ACTOR_U1, orgScope],
          embeddingModel: hnswModel,
          lexicalQuery: '',
          entityNames: [],
          asOf: at(10),
          limit: 10,
        };

        let recalled = 0;
        for (let q = 0; q < 5; q++) {
          const queryVector = randomVector();
          const before = await indexScans();
          const viaIndex = await approximate.searchContext({ ...request, queryVector });
          const scanned = (await indexScans()) - before;
          const exact = await exactOnly.searchContext({ ...request, queryVector });
          const orgHits = (found: ContextCandidates) =>
            found.vector.filter((hit) => found.memories.get(hit.id)!.scope.level === 'ORG');
          // The ORG part came through the index (and says so); the small ACTOR scope did not.
          expect(scanned).toBeGreaterThan(0);
          expect(orgHits(viaIndex).every((hit) => hit.approximate)).toBe(true);
          expect(viaIndex.vector.filter((hit) => hit.approximate).length).toBe(orgHits(viaIndex).length);
          expect(orgHits(exact).some((hit) => hit.approximate)).toBe(false);
          // Only this org's memories, the full limit, and (nearly) the exact neighbours.
          expect(orgHits(viaIndex)).toHaveLength(10);
          expect([...viaIndex.memories.values()].every((m) => m.orgId === orgId)).toBe(true);
          const exactIds = new Set(orgHits(exact).map((hit) => hit.id));
          recalled += orgHits(viaIndex).filter((hit) => exactIds.has(hit.id)).length;
        }
        expect(recalled / 50).toBeGreaterThanOrEqual(0.9);
      });

      it('full text is an OR of the words, and entity hits come from mentions named in the query', async () => {
        const orgId = unique('org');
        const put = (m: NewMemory) => insert({ ...m, orgId });
        const both = await put(vec('Refund requests need the original invoice', unit(0, 1, 0)));
        const one = await put(vec('Refunds take 30 days', unit(0, 0, 1)));
        await put(vec('Lunch is at noon', unit(0, 1, 1)));
        const mentioned = await put(
          vec('Our contact there is Dana', unit(0, 1, 0), {
            mentions: [{ name: 'Acme Corp', type: 'ORGANIZATION' }],
          }),
        );

        const found = await search(orgId, [ACTOR_U1], { limit: 10 });
        expect(found.lexical.map((hit) => hit.id)).toEqual([both, one]);
        expect(found.lexical[0]!.rank).toBeGreaterThan(found.lexical[1]!.rank);
        expect(found.entity).toEqual([{ id: mentioned, names: ['Acme Corp'] }]);

        const noWords = await search(orgId, [ACTOR_U1], { lexicalQuery: '', entityNames: [], limit: 10 });
        expect(noWords.lexical).toEqual([]);
        expect(noWords.entity).toEqual([]);
        expect(noWords.vector).toHaveLength(4);
      });
    });

    describe('listMemories and getMemories', () => {
      let orgId: string;
      const ids: Record<string, string> = {};

      beforeAll(async () => {
        orgId = unique('org');
        ids.u1 = await insert(memory(orgId, 'u1 fact'));
        ids.u2 = await insert(memory(orgId, 'u2 fact', { scope: { level: 'ACTOR', id: 'u2' } }));
        ids.role = await insert(memory(orgId, 'role fact', { scope: { level: 'ROLE', id: 'r1' } }));
        ids.team = await insert(memory(orgId, 'team fact', { scope: { level: 'TEAM', id: 't1' } }));
        ids.org = await insert(memory(orgId, 'org fact', { scope: { level: 'ORG', id: orgId } }));
        ids.d1c0 = await insert(chunk(orgId, 'd1', 1, 0, 'd1 chunk 0'));
        ids.d1c1 = await insert(chunk(orgId, 'd1', 1, 1, 'd1 chunk 1'));
        ids.d2c0 = await insert(chunk(orgId, 'd2', 1, 0, 'd2 chunk 0'));
        ids.u1Closed = await insert(memory(orgId, 'u1 old fact'));
        await store.closeMemory(ids.u1Closed, ids.u1, at(1));
        ids.u1Later = await insert(memory(orgId, 'u1 expires later', { expiresAt: FUTURE() }));
        ids.u1Expired = await insert(memory(orgId, 'u1 expired', { expiresAt: PAST() }));
        ids.u1ExpiredClosed = await insert(memory(orgId, 'u1 expired and closed', { expiresAt: PAST() }));
        await store.closeMemory(ids.u1ExpiredClosed, ids.u1, at(1));
        // The same scope ids in another org are never listed here.
        const other = unique('org');
        await insert(memory(other, 'u1 fact'));
        await insert(memory(other, 'role fact', { scope: { level: 'ROLE', id: 'r1' } }));
        await insert(chunk(other, 'd1', 1, 0, 'd1 chunk 0'));
      });

      const sorted = (...keys: string[]) => keys.map((key) => ids[key]!).sort();

      it('lists the current, unexpired memories of the org', async () => {
        expect(await list({ orgId })).toEqual(
          sorted('u1', 'u2', 'role', 'team', 'org', 'd1c0', 'd1c1', 'd2c0', 'u1Later'),
        );
        expect(await list({ orgId, includeClosed: true })).toEqual(
          sorted('u1', 'u2', 'role', 'team', 'org', 'd1c0', 'd1c1', 'd2c0', 'u1Later', 'u1Closed'),
        );
        expect(await list({ orgId: unique('org') })).toEqual([]);
      });

      it('filters by level, scope, actor and document', async () => {
        expect(await list({ orgId, level: 'ACTOR' })).toEqual(sorted('u1', 'u2', 'u1Later'));
        expect(await list({ orgId, level: 'ACTOR', scopeId: 'u1' })).toEqual(sorted('u1', 'u1Later'));
        expect(await list({ orgId, level: 'ACTOR', scopeId: 'u1', includeClosed: true })).toEqual(
          sorted('u1', 'u1Later', 'u1Closed'),
        );
        expect(await list({ orgId, actorId: 'u2' })).toEqual(sorted('u2'));
        expect(await list({ orgId, level: 'ROLE' })).toEqual(sorted('role'));
        expect(await list({ orgId, scopeId: 't1' })).toEqual(sorted('team'));
        expect(await list({ orgId, level: 'TEAM', scopeId: 'r1' })).toEqual([]);
        expect(await list({ orgId, level: 'ORG' })).toEqual(sorted('org', 'd1c0', 'd1c1', 'd2c0'));
        expect(await list({ orgId, documentId: 'd1' })).toEqual(sorted('d1c0', 'd1c1'));
        expect(await list({ orgId, documentId: 'd1', level: 'ORG', scopeId: orgId })).toEqual(
          sorted('d1c0', 'd1c1'),
        );
        expect(await list({ orgId, documentId: 'missing' })).toEqual([]);
      });

      it('pages by (createdAt, id) without repeating or skipping a memory', async () => {
        const all = await store.listMemories({ orgId, includeClosed: true }, { first: 100 });
        expect(all.map((m) => m.id)).toEqual([...all].sort(byKey).map((m) => m.id));
        expect(all).toHaveLength(10);

        const seen: string[] = [];
        const sizes: number[] = [];
        let after: { createdAt: Date; id: string } | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await store.listMemories({ orgId, includeClosed: true }, { first: 3, after });
          sizes.push(page.length);
          seen.push(...page.map((m) => m.id));
          const last = page[page.length - 1];
          if (!last) break;
          after = { createdAt: last.createdAt, id: last.id };
        }
        expect(sizes).toEqual([3, 3, 3, 1, 0]);
        expect(seen).toEqual(all.map((m) => m.id));

        const actorPage = await store.listMemories({ orgId, level: 'ACTOR' }, { first: 2 });
        expect(actorPage).toHaveLength(2);
        const rest = await store.listMemories(
          { orgId, level: 'ACTOR' },
          { first: 2, after: { createdAt: actorPage[1]!.createdAt, id: actorPage[1]!.id } },
        );
        expect([...actorPage, ...rest].map((m) => m.id).sort()).toEqual(sorted('u1', 'u2', 'u1Later'));
      });

      it('getMemories returns current and closed ones, never expired ones, and skips unknown ids', async () => {
        const found = await store.getMemories([
          ids.u1!,
          ids.u1Closed!,
          ids.u1Expired!,
          ids.u1ExpiredClosed!,
          ids.u1Later!,
          randomUUID(),
          'not-a-uuid',
        ]);
        expect(found.map((m) => m.id).sort()).toEqual(sorted('u1', 'u1Closed', 'u1Later'));
        expect(await store.getMemories([])).toEqual([]);
        expect(await store.getMemories([ids.u1Expired!])).toEqual([]);
      });

      it('expired memories are not listed by any filter', async () => {
        const expired = new Set([ids.u1Expired, ids.u1ExpiredClosed]);
        for (const filter of [
          { orgId, includeClosed: true },
          { orgId, actorId: 'u1', includeClosed: true },
          { orgId, level: 'ACTOR' as const, scopeId: 'u1', includeClosed: true },
        ]) {
          const listed = await list(filter);
          expect(listed.length).toBeGreaterThan(0);
          expect(listed.filter((id) => expired.has(id))).toEqual([]);
        }
      });
    });

    it('deleteMemory deletes only in its own org', async () => {
      const orgId = unique('org');
      const id = await insert(
        memory(orgId, 'to be deleted', { mentions: [{ name: 'Ada', type: 'PERSON' }] }),
      );
      expect(await store.deleteMemory(unique('org'), id)).toBe(false);
      expect(await store.getMemories([id])).toHaveLength(1);
      expect(await store.deleteMemory(orgId, id)).toBe(true);
      expect(await store.getMemories([id])).toEqual([]);
      expect((await store.mentions([id])).get(id)).toEqual([]);
      expect(await store.deleteMemory(orgId, id)).toBe(false);
      expect(await store.deleteMemory(orgId, 'not-a-uuid')).toBe(false);
    });
  });

  describe('forgetActor', () => {
    it("counts and removes only that actor's events, memories, vectors and mentions in that org", async () => {
      const orgId = unique('org');
      const otherOrg = unique('org');
      await store.insertEvents(
        [event(orgId, 'e1'), event(orgId, 'e2'), event(orgId, 'e3', { actorId: 'u2' })],
        'job',
      );
      await store.insertEvents([event(otherOrg, 'e1')], 'job');

      const withVector = { embedding: unit(1, 0), embeddingModel: 'model-a' };
      const doomed = [
        await insert(
          memory(orgId, 'u1 likes tea', {
            ...withVector,
            mentions: [
              { name: 'Tea', type: 'TERM' },
              { name: 'Ada', type: 'PERSON' },
            ],
          }),
        ),
        await insert(memory(orgId, 'u1 has no vector', { mentions: [{ name: 'Lisbon', type: 'PLACE' }] })),
        await insert(memory(orgId, 'u1 closed one', withVector)),
      ];
      await store.closeMemory(doomed[2]!, doomed[0]!, at(3));
      const kept = [
        await insert(
          memory(orgId, 'u2 likes tea', {
            ...withVector,
            scope: { level: 'ACTOR', id: 'u2' },
            mentions: [{ name: 'Tea', type: 'TERM' }],
          }),
        ),
        await insert(memory(orgId, 'org fact', { ...withVector, scope: { level: 'ORG', id: orgId } })),
        await insert(chunk(orgId, 'handbook', 1, 0, 'Handbook text')),
      ];
      const foreign = await insert(
        memory(otherOrg, 'u1 likes tea', { ...withVector, mentions: [{ name: 'Tea', type: 'TERM' }] }),
      );

      expect(await store.forgetActor(orgId, 'u1')).toEqual({
        events: 2,
        memories: 3,
        vectors: 2,
        entityLinks: 3,
      });

      expect(await store.getMemories(doomed)).toEqual([]);
      expect([...(await store.mentions(doomed)).values()].flat()).toEqual([]);
      expect(await store.getEvents(orgId, ['e1', 'e2', 'e3'])).toEqual([
        event(orgId, 'e3', { actorId: 'u2' }),
      ]);
      expect((await store.getMemories(kept)).map((m) => m.id).sort()).toEqual([...kept].sort());
      expect((await store.mentions([kept[0]!])).get(kept[0]!)).toEqual([{ name: 'Tea', type: 'TERM' }]);
      // The same actor id in another org is another person: untouched.
      expect(await store.getEvents(otherOrg, ['e1'])).toEqual([event(otherOrg, 'e1')]);
      expect(await store.getMemories([foreign])).toHaveLength(1);
      expect((await store.mentions([foreign])).get(foreign)).toEqual([{ name: 'Tea', type: 'TERM' }]);

      expect(await store.forgetActor(orgId, 'u1')).toEqual({
        events: 0,
        memories: 0,
        vectors: 0,
        entityLinks: 0,
      });
    });

    it('takes the actor out of promoted memories and deletes the ones left without sources', async () => {
      const orgId = unique('org');
      await store.insertEvents([event(orgId, 'e1'), event(orgId, 'e2', { actorId: 'u2' })], 'job');
      const derived = (
        content: string,
        scope: Scope,
        sourceMemoryIds: string[],
        eventIds: string[],
        supporters: string[],
        metadata: Record<string, unknown> = {},
      ) =>
        memory(orgId, content, {
          scope,
          provenance: {
            eventIds,
            documentId: null,
            documentVersion: null,
            chunkIndex: null,
            sourceMemoryIds,
          },
          metadata: { ...metadata, promotion: { support: supporters.length, supporters, judge: 'test' } },
        });
      const provenance = (eventIds: string[]) => ({
        eventIds,
        documentId: null,
        documentVersion: null,
        chunkIndex: null,
        sourceMemoryIds: [],
      });
      const mine = await insert(memory(orgId, 'u1 tests on Postgres', { provenance: provenance(['e1']) }));
      const theirs = await insert(
        memory(orgId, 'u2 tests on Postgres', {
          scope: { level: 'ACTOR', id: 'u2' },
          provenance: provenance(['e2']),
        }),
      );
      const backend: Scope = { level: 'ROLE', id: 'backend' };
      const role = await insert(
        derived('Backend tests on Postgres', backend, [mine, theirs], ['e1', 'e2'], ['u1', 'u2']),
      );
      const onlyMine = await insert(derived('Backend drinks tea', backend, [mine], ['e1'], ['u1']));
      // A memory that stood at its scope before promotion gave it provenance: it stays.
      const standing = await insert(
        derived('Team fact', { level: 'TEAM', id: 't1' }, [mine], ['e1'], ['u1'], { source: 'createMemory' }),
      );
      const org = await insert(
        derived('Org tests on Postgres', { level: 'ORG', id: orgId }, [role], ['e1', 'e2'], ['ROLE:backend']),
      );

      expect(await store.forgetActor(orgId, 'u1')).toMatchObject({ events: 1, memories: 1 });
      expect(await get(role)).toMatchObject({
        provenance: { sourceMemoryIds: [theirs], eventIds: ['e2'] },
        metadata: { promotion: { support: 1, supporters: ['u2'], judge: 'test' } },
      });
      expect(await store.getMemories([onlyMine])).toEqual([]);
      expect(await get(standing)).toMatchObject({
        provenance: { sourceMemoryIds: [], eventIds: [] },
        metadata: { source: 'createMemory' },
      });
      expect((await get(standing)).metadata).not.toHaveProperty('promotion');
      expect(await get(org)).toMatchObject({
        provenance: { sourceMemoryIds: [role], eventIds: ['e2'] },
        metadata: { promotion: { support: 1, supporters: ['ROLE:backend'] } },
      });
    });
  });

  describe('documents', () => {
    it('keeps versions: currentDocuments gives the newest, getDocumentVersion any', async () => {
      const orgId = unique('org');
      const version = (n: number, content: string) => ({
        orgId,
        documentId: 'policy',
        version: n,
        scope: { level: 'TEAM' as const, id: 'team-1' },
        content,
        contentHash: contentHash(content),
        metadata: { title: `v${n}` },
      });
      await store.insertDocumentVersion(version(1, 'First text.'));
      await store.insertDocumentVersion(version(2, 'Second text.'));
      await store.insertDocumentVersion({ ...version(1, 'Other.'), documentId: 'other' });
      await expect(store.insertDocumentVersion(version(2, 'Clash.'))).rejects.toThrow();

      expect(await store.currentDocuments(orgId, ['policy', 'missing'])).toEqual([
        version(2, 'Second text.'),
      ]);
      expect(await store.getDocumentVersion(orgId, 'policy', 1)).toEqual(version(1, 'First text.'));
      expect(await store.getDocumentVersion(orgId, 'policy', 3)).toBeNull();
      expect(await store.getDocumentVersion(unique('org'), 'policy', 1)).toBeNull();
      expect(await store.currentDocuments(orgId, [])).toEqual([]);
    });
  });

  describe('jobs', () => {
    it('insertJob stores the job and writes its queue items in order', async () => {
      const orgId = unique('org');
      const job = makeJob(orgId, {
        kind: 'INGEST_DOCUMENTS',
        priority: 'BOOTSTRAP',
        total: 4,
        errors: ['an old error'],
        message: 'hello',
      });
      const payloads: WorkPayload[] = [
        { type: 'document', documentId: 'd-z', version: 1 },
        { type: 'document', documentId: 'd-a', version: 3 },
        { type: 'event', eventId: 'e-9' },
        { type: 'event', eventId: 'e-1' },
      ];
      await store.insertJob(job, payloads);

      expect(await store.getJobs([job.jobId, 'job-missing'])).toEqual([
        { ...job, updatedAt: expect.any(Date) },
      ]);
      const items = (await dataSource.query(
        `SELECT payload, priority, status, attempts, org_id FROM memory.job_items WHERE job_id = $1 ORDER BY item_id`,
        [job.jobId],
      )) as Array<{
        payload: WorkPayload;
        priority: number;
        status: string;
        attempts: number;
        org_id: string;
      }>;
      expect(items.map((item) => item.payload)).toEqual(payloads);
      expect(
        items.every((item) => item.priority === 1 && item.status === 'queued' && item.attempts === 0),
      ).toBe(true);
      expect(items.every((item) => item.org_id === orgId)).toBe(true);

      const empty = makeJob(orgId, { status: 'DONE', stage: 'done', startedAt: at(0), finishedAt: at(0) });
      await store.insertJob(empty, []);
      expect(await store.getJobs([empty.jobId])).toEqual([{ ...empty, updatedAt: expect.any(Date) }]);
      expect(await store.getJobs([])).toEqual([]);
    });

    it('a failed transaction leaves neither the job nor its items', async () => {
      const orgId = unique('org');
      const job = makeJob(orgId, { total: 1 });
      await expect(
        store.transaction(async (tx) => {
          await tx.insertEvents([event(orgId, 'e1')], job.jobId);
          await tx.insertJob(job, [{ type: 'event', eventId: 'e1' }]);
          // Nested calls run in the same transaction.
          await tx.transaction((inner) => inner.insertEvents([event(orgId, 'e2')], job.jobId));
          throw new Error('refused');
        }),
      ).rejects.toThrow('refused');
      expect(await store.getJobs([job.jobId])).toEqual([]);
      expect(await store.getEvents(orgId, ['e1', 'e2'])).toEqual([]);
      const items = (await dataSource.query(`SELECT item_id FROM memory.job_items WHERE job_id = $1`, [
        job.jobId,
      ])) as unknown[];
      expect(items).toEqual([]);
    });

    it('listJobs: newest first, filtered by status, with keyset pagination', async () => {
      const orgId = unique('org');
      const statuses: JobStatus[] = ['DONE', 'QUEUED', 'DONE', 'FAILED', 'DONE'];
      const jobs = statuses.map((status, i) => makeJob(orgId, { status, createdAt: at(10 + i) }));
      // Two jobs at the same instant: the id breaks the tie (descending).
      const twin = makeJob(orgId, { status: 'DONE', createdAt: at(14), jobId: `${jobs[4]!.jobId}-twin` });
      for (const job of [jobs[3]!, jobs[0]!, twin, jobs[4]!, jobs[2]!, jobs[1]!])
        await store.insertJob(job, []);
      await store.insertJob(makeJob(unique('org'), { status: 'DONE', createdAt: at(50) }), []);

      const all = await store.listJobs(orgId, undefined, { first: 100 });
      const newestFirst = [twin, jobs[4]!, jobs[3]!, jobs[2]!, jobs[1]!, jobs[0]!].map((job) => job.jobId);
      expect(all.map((job) => job.jobId)).toEqual(newestFirst);

      const done = await store.listJobs(orgId, 'DONE', { first: 100 });
      expect(done.map((job) => job.jobId)).toEqual(
        [twin, jobs[4]!, jobs[2]!, jobs[0]!].map((job) => job.jobId),
      );
      expect((await store.listJobs(orgId, 'FAILED', { first: 100 })).map((job) => job.jobId)).toEqual([
        jobs[3]!.jobId,
      ]);
      expect(await store.listJobs(orgId, 'RUNNING', { first: 100 })).toEqual([]);

      const pages: string[][] = [];
      let after: { createdAt: Date; id: string } | undefined;
      for (let i = 0; i < 5; i++) {
        const page = await store.listJobs(orgId, 'DONE', { first: 3, after });
        pages.push(page.map((job) => job.jobId));
        const last = page[page.length - 1];
        if (!last) break;
        after = { createdAt: last.createdAt, id: last.jobId };
      }
      expect(pages).toEqual([[twin, jobs[4]!, jobs[2]!].map((job) => job.jobId), [jobs[0]!.jobId], []]);
      expect(await store.listJobs(unique('org'), undefined, { first: 10 })).toEqual([]);
    });
  });
});
