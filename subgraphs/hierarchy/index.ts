import type { Router } from 'express';
import type { Config } from '../../common/config';
import type { HierarchyDeletionHooks } from '../../common/internal-client';
import {
  openSubgraphDatabase,
  type DatabaseTarget,
  type SubgraphDatabaseOptions,
} from '../../common/db/data-source';
import type { Identity } from '../../common/identity';
import { OpenAiChatClient } from '../../common/llm/openai-chat-client';
import type { Subgraph } from '../../common/subgraph-server';
import { createLoaders, type HierarchyContext, type HierarchyServices } from './context';
import { CreateHierarchy1763769600000 } from './migrations/1763769600000-create-hierarchy';
import { buildHierarchySchema } from './schema';
import { ApiKeyService } from './services/api-key-service';
import { HierarchyService } from './services/hierarchy-service';
import {
  LlmPromptGenerator,
  TemplatePromptGenerator,
  type PromptGenerator,
} from './services/prompt-generator';
import { PostgresHierarchyStore } from './storage/postgres-hierarchy-store';
import { ActorRecord, ApiKeyRecord, OrgRecord, RoleRecord, TeamRecord } from './storage/records';

export { buildHierarchySchema };

/** The hierarchy's schema, records and migrations (also used by the store's contract tests). */
export const HIERARCHY_DATABASE: SubgraphDatabaseOptions = {
  schema: 'hierarchy',
  entities: [OrgRecord, RoleRecord, TeamRecord, ActorRecord, ApiKeyRecord],
  migrations: [CreateHierarchy1763769600000],
};

export interface HierarchySubgraph extends Subgraph<HierarchyContext> {
  readonly services: HierarchyServices;
}

export interface HierarchyDependencies {
  config: Pick<Config, 'llm'>;
  database: DatabaseTarget;
  /** Overrides the generator chosen from config (tests). */
  promptGenerator?: PromptGenerator;
  /** Purge other subgraphs' data of a deleted org, role or team (common/internal-client.ts). */
  deletionHooks?: HierarchyDeletionHooks;
}

/** Opens the hierarchy's database (running its migrations) and wires store → services → schema. */
export async function createHierarchySubgraph(deps: HierarchyDependencies): Promise<HierarchySubgraph> {
  const dataSource = await openSubgraphDatabase(deps.database, HIERARCHY_DATABASE);
  try {
    const store = new PostgresHierarchyStore(dataSource);
    const prompts =
      deps.promptGenerator ??
      (deps.config.llm
        ? new LlmPromptGenerator(new OpenAiChatClient(deps.config.llm))
        : new TemplatePromptGenerator());
    const services: HierarchyServices = {
      hierarchy: new HierarchyService(store, prompts, deps.deletionHooks),
      apiKeys: new ApiKeyService(store),
    };
    const schema = await buildHierarchySchema();
    return {
      name: 'hierarchy',
      schema,
      services,
      createContext: (identity: Identity): HierarchyContext => ({
        identity,
        services,
        loaders: createLoaders(services),
      }),
      internalRoutes: (router: Router) => {
        // The gateway turns an API key into an identity here (see gateway/auth.ts).
        router.post('/authenticate', async (req, res) => {
          const key = typeof req.body?.key === 'string' ? req.body.key : '';
          res.json({ identity: await services.apiKeys.authenticate(key) });
        });
      },
      isReady: async () => {
        await store.ping();
        return true;
      },
      close: async () => {
        if (dataSource.isInitialized) await dataSource.destroy();
      },
    };
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
}
