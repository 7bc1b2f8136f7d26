import type { DataSource } from 'typeorm';
import { openSubgraphDatabase } from '../../common/db/data-source';
import { MEMORY_DATABASE } from '../../subgraphs/memory';
import { LocalSentenceEmbedder } from '../../subgraphs/memory/embedding/local-sentence-embedder';
import type { EntityMention, MemoryCategory } from '../../subgraphs/memory/extraction/types';
import { contentHash } from '../../subgraphs/memory/services/content';
import type { NewMemory, Scope } from '../../subgraphs/memory/storage/memory-store';
import { PostgresMemoryStore } from '../../subgraphs/memory/storage/postgres-memory-store';
import { PostgresPromotionStore } from '../../subgraphs/memory/storage/postgres-promotion-store';
import { createTestDatabase, type TestDatabase } from './database';

/** The memory subgraph's Postgres stores on a database of their own, with the real local encoder. */
export interface MemoryTestBed {
  database: TestDatabase;
  dataSource: DataSource;
  embedder: LocalSentenceEmbedder;
  store: PostgresMemoryStore;
  promotions: PostgresPromotionStore;
  /** Closes the encoder, the data source and the database. */
  close(): Promise<void>;
}

/** Opens a {@link MemoryTestBed} (for a test file's `beforeAll`); what opened is closed again if a later step fails. */
export async function openMemoryTestBed(): Promise<MemoryTestBed> {
  let dataSource: DataSource | undefined;
  let embedder: LocalSentenceEmbedder | undefined;
  const database = await createTestDatabase();
  const close = async () => {
    await embedder?.close();
    await dataSource?.destroy();
    await database.close();
  };
  try {
    dataSource = await openSubgraphDatabase(database.target, MEMORY_DATABASE);
    embedder = await LocalSentenceEmbedder.create();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    database,
    dataSource,
    embedder,
    store: new PostgresMemoryStore(dataSource, dataSource),
    promotions: new PostgresPromotionStore(dataSource, dataSource),
    close,
  };
}

/** The row the pipeline writes for a memory drawn from events: content, its vector, provenance = those events. */
export function eventMemory(fields: {
  orgId: string;
  scope: Scope;
  actorId: string | null;
  content: string;
  category: MemoryCategory;
  embedding: Float32Array;
  embeddingModel: string;
  eventIds: string[];
  validFrom?: Date;
  mentions?: EntityMention[];
}): NewMemory {
  const { eventIds, validFrom, mentions, ...memory } = fields;
  return {
    ...memory,
    contentHash: contentHash(fields.content),
    provenance: { eventIds, documentId: null, documentVersion: null, chunkIndex: null, sourceMemoryIds: [] },
    validFrom: validFrom ?? new Date(),
    expiresAt: null,
    metadata: {},
    mentions: mentions ?? [],
  };
}
