import DataLoader from 'dataloader';
import type { Identity } from '../../common/identity';
import type { EntityMention } from './extraction/types';
import type { ContextService } from './services/context-service';
import type { IngestionService } from './services/ingestion-service';
import type { JobEvents } from './services/job-events';
import type { MemoryService } from './services/memory-service';
import type { PromotionService } from './services/promotion-service';
import type { Job, Memory, MemoryStore } from './storage/memory-store';

export interface MemoryServices {
  ingestion: IngestionService;
  context: ContextService;
  memories: MemoryService;
  store: MemoryStore;
  jobEvents: JobEvents;
  /** Memory promotion up the hierarchy (issue 6). */
  promotion: PromotionService;
  /** Tells a local worker that work was queued (it polls at once). */
  workQueued: () => void;
}

export interface MemoryContext {
  identity: Identity;
  services: MemoryServices;
  loaders: MemoryLoaders;
}

export interface MemoryLoaders {
  memories: DataLoader<string, Memory | null>;
  history: DataLoader<string, Memory[]>;
  mentions: DataLoader<string, EntityMention[]>;
  jobs: DataLoader<string, Job | null>;
}

/** One loader set per request or subscription event (graphql/dataloader README). */
export function createLoaders(services: MemoryServices): MemoryLoaders {
  return {
    memories: new DataLoader(async (ids) => {
      const byId = new Map((await services.memories.getMemories(ids)).map((memory) => [memory.id, memory]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
    history: new DataLoader(async (ids) => {
      const history = await services.memories.history(ids);
      return ids.map((id) => history.get(id) ?? []);
    }),
    mentions: new DataLoader(async (ids) => {
      const mentions = await services.memories.mentions(ids);
      return ids.map((id) => mentions.get(id) ?? []);
    }),
    jobs: new DataLoader(async (ids) => {
      const byId = new Map((await services.store.getJobs(ids)).map((job) => [job.jobId, job]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
