import { randomUUID } from 'node:crypto';
import { ContextService, recencyFactor } from '../../subgraphs/memory/services/context-service';
import { eventMemory, openMemoryTestBed, type MemoryTestBed } from '../support/memory-test-bed';

const DAY = 86_400_000;

/** Issue 5 item 2: the explanation's recency part, and what it does to the order. */
describe('context ranking: recency', () => {
  let bed: MemoryTestBed;

  beforeAll(async () => {
    bed = await openMemoryTestBed();
  });
  afterAll(async () => {
    await bed?.close();
  });

  it('gives up to +5 %, halving every 30 days', () => {
    expect(recencyFactor(0)).toBeCloseTo(1.05, 10);
    expect(recencyFactor(30)).toBeCloseTo(1.025, 10);
    expect(recencyFactor(60)).toBeCloseTo(1.0125, 10);
    expect(recencyFactor(3650)).toBeCloseTo(1, 6);
  });

  it('puts the newer of two equally relevant memories first and says so', async () => {
    const orgId = `org_${randomUUID()}`;
    const texts = ['Deploys go out on Tuesday afternoons.', 'Deploys go out on Tuesday afternoons!'];
    const [oldVector, newVector] = await bed.embedder.embed(texts);
    const stored = async (content: string, embedding: Float32Array, validFrom: Date) =>
      (
        await bed.store.insertMemory(
          eventMemory({
            orgId,
            scope: { level: 'ACTOR', id: 'dana' },
            actorId: 'dana',
            content,
            category: 'FACT',
            embedding,
            embeddingModel: bed.embedder.modelId,
            eventIds: [randomUUID()],
            validFrom,
          }),
        )
      ).id;
    // Same words and nearly the same vector: relevance alone does not order them; recency must.
    const older = await stored(texts[0]!, oldVector!, new Date(Date.now() - 300 * DAY));
    const newer = await stored(texts[1]!, newVector!, new Date(Date.now() - 60_000));

    const result = await new ContextService(bed.store, bed.embedder).retrieve({
      orgId,
      actorId: 'dana',
      roleId: null,
      teamId: null,
      query: 'When do deploys go out?',
      limit: 5,
    });
    expect(result.items.map((item) => item.memory.id)).toEqual([newer, older]);
    const [first, second] = result.items;
    expect(first!.explanation).toMatch(/recency ×1\.050 \(under a day old\)/);
    expect(second!.explanation).toMatch(/recency ×1\.000 \(300 days old\)/);
    expect(first!.score).toBeGreaterThan(second!.score);
  });
});
