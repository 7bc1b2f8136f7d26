import type { Router } from 'express';
import type { Config, PromotionConfig } from '../../common/config';
import {
  openSubgraphDatabase,
  type DatabaseTarget,
  type SubgraphDatabaseOptions,
} from '../../common/db/data-source';
import type { Identity } from '../../common/identity';
import { OpenAiChatClient } from '../../common/llm/openai-chat-client';
import type { Subgraph } from '../../common/subgraph-server';
import { createLoaders, type MemoryContext, type MemoryServices } from './context';
import { createEmbedder, type Embedder } from './embedding';
import { createExtractor, RuleCategorizer, SentenceChunker } from './extraction';
import type { Extractor } from './extraction/types';
import { CreateMemory1763856000000 } from './migrations/1763856000000-create-memory';
import { OrgContextVersion1764100000000 } from './migrations/1764100000000-org-context-version';
import { ContextRetrieval1764200000000 } from './migrations/1764200000000-context-retrieval';
import { Promotion1764300000000 } from './migrations/1764300000000-promotion';
import { PromotionSchedule1764400000000 } from './migrations/1764400000000-promotion-schedule';
import { PostgresJobQueue } from './queue/postgres-job-queue';
import { buildMemorySchema } from './schema';
import { ContextCache } from './services/context-cache';
import { ContextService } from './services/context-service';
import { IngestionService } from './services/ingestion-service';
import { DeterministicPromotionJudge, LlmPromotionJudge } from './services/promotion-judge';
import { PromotionScheduler } from './services/promotion-scheduler';
import { PromotionService } from './services/promotion-service';
import { JobEvents } from './services/job-events';
import { MemoryService } from './services/memory-service';
import { IngestionPipeline } from './services/pipeline';
import { EntitySubgraphLinker } from './services/entity-linker';
import { HierarchyScopeDirectory, type ScopeDirectory } from './services/scope-directory';
import { IngestionWorker } from './services/worker';
import { PostgresMemoryStore } from './storage/postgres-memory-store';
import { PostgresPromotionStore } from './storage/postgres-promotion-store';

export { buildMemorySchema };

/** The memory subgraph's schema and migrations (also used by contract tests). */
export const MEMORY_DATABASE: SubgraphDatabaseOptions = {
  schema: 'memory',
  entities: [],
  migrations: [
    CreateMemory1763856000000,
    OrgContextVersion1764100000000,
    ContextRetrieval1764200000000,
    Promotion1764300000000,
    PromotionSchedule1764400000000,
  ],
};

/** Promotion defaults when the caller's config has none (as loadConfig gives them). */
const DEFAULT_PROMOTION: PromotionConfig = {
  intervalSeconds: 0,
  minActorSupport: 3,
  minGroupSupport: 3,
  clusterSimilarity: 0.7,
  minScore: 0.3,
};

export interface MemorySubgraph extends Subgraph<MemoryContext> {
  readonly services: MemoryServices;
  /** The in-process worker, when enabled. */
  readonly worker?: IngestionWorker;
  /** Scheduled promotion (per org `intervalSeconds`, else PROMOTION_INTERVAL_SECONDS; off when 0). */
  readonly promotionScheduler: PromotionScheduler;
}

export interface MemoryDependencies {
  config: Pick<Config, 'llm' | 'embeddings' | 'memoryWorker' | 'contextCacheTtlSeconds'> &
    Partial<Pick<Config, 'promotion' | 'contextHnswMinRows'>>;
  database: DatabaseTarget;
  /** The hierarchy subgraph (actors, roles, teams, promotion prompts). */
  hierarchyUrl: string;
  /** The entity subgraph (entity resolution and links); without it mentions are only recorded. */
  entityUrl?: string;
  internalSecret: string;
  /** Overrides for tests. */
  embedder?: Embedder;
  extractor?: Extractor;
  directory?: ScopeDirectory;
}

/**
 * Opens the memory schema (running its migrations), loads the embedding model, wires
 * store → services → schema, and starts the in-process ingestion worker unless disabled.
 */
export async function createMemorySubgraph(deps: MemoryDependencies): Promise<MemorySubgraph> {
  const dataSource = await openSubgraphDatabase(deps.database, MEMORY_DATABASE);
  let embedder: Embedder | undefined;
  try {
    const { config } = deps;
    embedder =
      deps.embedder ??
      (await createEmbedder(
        config.embeddings ?? {
          timeoutMs: config.llm?.timeoutMs ?? 30_000,
          maxRetries: config.llm?.maxRetries ?? 2,
        },
      ));
    const extractor =
      deps.extractor ?? createExtractor(config.llm ? new OpenAiChatClient(config.llm) : undefined);
    const store = new PostgresMemoryStore(
      dataSource,
      dataSource,
      config.contextHnswMinRows ? { hnswMinRows: config.contextHnswMinRows } : {},
    );
    // The index that serves large ORG scopes for this model (instant on an empty table).
    await store.ensureVectorIndex(embedder.modelId, embedder.dimensions);
    const queue = new PostgresJobQueue(dataSource);
    const directory = deps.directory ?? new HierarchyScopeDirectory(deps.hierarchyUrl, deps.internalSecret);
    const jobEvents = new JobEvents();
    const stages = {
      categorizer: new RuleCategorizer(),
      extractor,
      chunker: new SentenceChunker(),
      embedder,
    };
    const linker = deps.entityUrl ? new EntitySubgraphLinker(deps.entityUrl, deps.internalSecret) : undefined;
    const pipeline = new IngestionPipeline(store, queue, stages, directory, linker, (jobIds) =>
      jobEvents.changed(jobIds),
    );
    const ingestion = new IngestionService(store, directory);
    const worker = config.memoryWorker.enabled
      ? new IngestionWorker(queue, pipeline, {
          batchSize: config.memoryWorker.batchSize,
          concurrency: config.memoryWorker.concurrency,
          pollMs: config.memoryWorker.pollMs,
          leaseSeconds: config.memoryWorker.leaseSeconds,
        })
      : undefined;
    const promotionConfig = config.promotion ?? DEFAULT_PROMOTION;
    const promotions = new PostgresPromotionStore(dataSource, dataSource);
    const promotion = new PromotionService(
      store,
      promotions,
      directory,
      embedder,
      config.llm
        ? new LlmPromotionJudge(new OpenAiChatClient(config.llm))
        : new DeterministicPromotionJudge(embedder),
      {
        minActorSupport: promotionConfig.minActorSupport,
        minGroupSupport: promotionConfig.minGroupSupport,
        clusterSimilarity: promotionConfig.clusterSimilarity,
        minScore: promotionConfig.minScore,
      },
      {
        onProgress: (jobIds) => jobEvents.changed(jobIds),
        defaultIntervalSeconds: promotionConfig.intervalSeconds,
      },
    );
    const promotionScheduler = new PromotionScheduler(promotion, promotions, {
      intervalSeconds: promotionConfig.intervalSeconds,
    });
    const services: MemoryServices = {
      ingestion,
      context: new ContextService(store, embedder, new ContextCache(config.contextCacheTtlSeconds * 1000)),
      memories: new MemoryService(store, ingestion, pipeline, stages, linker),
      store,
      jobEvents,
      promotion,
      workQueued: () => worker?.wake(),
    };
    const schema = await buildMemorySchema();
    worker?.start();
    promotionScheduler.start();
    const ownEmbedder = deps.embedder ? undefined : embedder;
    return {
      name: 'memory',
      schema,
      services,
      worker,
      promotionScheduler,
      createContext: (identity: Identity): MemoryContext => ({
        identity,
        services,
        loaders: createLoaders(services),
      }),
      internalRoutes: (router: Router) => {
        // The hierarchy calls this before deleting an org (common/internal-client.ts).
        router.post('/delete-org', async (req, res) => {
          const { orgId } = req.body as { orgId: string };
          await store.transaction((tx) => tx.deleteOrg(orgId));
          res.json({ ok: true });
        });
        router.post('/delete-scope', async (req, res) => {
          const { orgId, scope } = req.body as {
            orgId: string;
            scope: { level: 'ROLE' | 'TEAM'; id: string };
          };
          await store.transaction((tx) => tx.deleteScope(orgId, scope));
          res.json({ ok: true });
        });
      },
      isReady: async () => {
        await store.ping();
        return true;
      },
      close: async () => {
        // Promotion first: a run in hand stops at its next step (its job ends FAILED, interrupted).
        const schedulerClosed = promotionScheduler.close();
        await promotion.close();
        await schedulerClosed;
        await worker?.stop();
        await ownEmbedder?.close();
        if (dataSource.isInitialized) await dataSource.destroy();
      },
    };
  } catch (error) {
    if (!deps.embedder) await embedder?.close();
    await dataSource.destroy();
    throw error;
  }
}
