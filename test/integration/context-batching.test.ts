import { randomUUID } from 'node:crypto';
import type { LocalSentenceEmbedder } from '../../subgraphs/memory/embedding/local-sentence-embedder';
import { ContextCache } from '../../subgraphs/memory/services/context-cache';
import { ContextService } from '../../subgraphs/memory/services/context-service';
import type { ContextSearch, MemoryStore, Scope } from '../../subgraphs/memory/storage/memory-store';
import { eventMemory, openMemoryTestBed, type MemoryTestBed } from '../support/memory-test-bed';

/**
 * Issue 5 item 6: a context query returning 20 items costs a small, constant number of store
 * calls, whatever the number of items (the entity side is one batch: entity-federation.test).
 */
describe('context retrieval batching', () => {
  let bed: MemoryTestBed;
  let embedder: LocalSentenceEmbedder;
  let store: MemoryStore;
  const calls = new Map<string, number>();
  /** The scope levels each searchContext call covered. */
  const searchedLevels: string[][] = [];

  beforeAll(async () => {
    bed = await openMemoryTestBed();
    embedder = bed.embedder;
    const real = bed.store;
    store = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
          if (property === 'searchContext')
            searchedLevels.push((args[0] as ContextSearch).scopes.map((scope) => scope.level));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as MemoryStore;
    const texts = Array.from(
      { length: 30 },
      (_, i) => `Refund rule ${i}: orders of category ${i} can be returned within ${10 + i} days.`,
    );
    const vectors = await embedder.embed(texts);
    const scopes: Scope[] = [
      { level: 'ACTOR', id: 'dana' },
      { level: 'TEAM', id: 'team_x' },
      { level: 'ORG', id: 'batch-org' },
    ];
    for (const [i, content] of texts.entries()) {
      const memory = eventMemory({
        orgId: 'batch-org',
        scope: scopes[i % 3]!,
        actorId: i % 3 === 0 ? 'dana' : null,
        content,
        category: 'FACT',
        embedding: vectors[i]!,
        embeddingModel: embedder.modelId,
        eventIds: [randomUUID()],
        validFrom: new Date(Date.now() - 60_000),
      });
      await real.insertMemory(memory);
    }
  });

  afterAll(async () => {
    await bed?.close();
  });

  it('answers 20 items with a constant number of store calls, fewer when the org part is cached', async () => {
    const service = new ContextService(store, embedder, new ContextCache(60_000));
    const request = {
      orgId: 'batch-org',
      actorId: 'dana',
      roleId: null,
      teamId: 'team_x',
      query: 'How many days to return an order?',
      limit: 20,
    };

    calls.clear();
    searchedLevels.length = 0;
    const cold = await service.retrieve(request);
    expect(cold.items).toHaveLength(20);
    expect(cold.cached).toBe(false);
    const coldCalls = Object.fromEntries(calls);
    // The org version, one search of the whole chain returning the memories with their
    // signals, and pairwise similarity for overrides.
    expect(coldCalls).toEqual({
      searchContext: 1,
      orgContextVersion: 1,
      pairwiseSimilarity: 1,
    });

    expect(searchedLevels).toEqual([['ACTOR', 'TEAM', 'ORG']]);

    calls.clear();
    searchedLevels.length = 0;
    const warm = await service.retrieve(request);
    expect(warm.cached).toBe(true);
    // The same statements; the search now covers only the live (non-ORG) scopes.
    expect(Object.fromEntries(calls)).toEqual({
      searchContext: 1,
      orgContextVersion: 1,
      pairwiseSimilarity: 1,
    });
    expect(searchedLevels).toEqual([['ACTOR', 'TEAM']]);
    expect(warm.items.map((item) => item.memory.id)).toEqual(cold.items.map((item) => item.memory.id));
  });
});
