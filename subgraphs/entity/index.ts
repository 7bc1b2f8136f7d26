import type { Router } from 'express';
import type { Config } from '../../common/config';
import { openSubgraphDatabase, type DatabaseTarget } from '../../common/db/data-source';
import type { Identity } from '../../common/identity';
import type { Subgraph } from '../../common/subgraph-server';
import { createEmbedder, type Embedder } from '../memory/embedding';
import { createLoaders, type EntityContext } from './context';
import type { GraphStore } from './graph/graph-store';
import { Neo4jGraphStore } from './graph/neo4j-graph-store';
import { ENTITY_DATABASE, PostgresGraphStore } from './graph/postgres-graph-store';
import { buildEntitySchema } from './schema';
import { EntityService, type MemoryLinks, type MentionsToResolve } from './services/entity-service';

export { buildEntitySchema };

export interface EntitySubgraph extends Subgraph<EntityContext> {
  readonly entities: EntityService;
}

export interface EntityDependencies {
  config: Pick<Config, 'neo4j' | 'embeddings' | 'llm' | 'entityMatchThreshold'>;
  database: DatabaseTarget;
  /** Overrides for tests. */
  graphStore?: GraphStore;
  embedder?: Embedder;
}

/**
 * Opens the graph store (Neo4j when NEO4J_URL is set, else tables in the Postgres schema
 * `entity`) and wires it into resolution, the schema and the internal routes the memory
 * pipeline calls.
 */
export async function createEntitySubgraph(deps: EntityDependencies): Promise<EntitySubgraph> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    let store: GraphStore;
    if (deps.graphStore) store = deps.graphStore;
    else {
      if (deps.config.neo4j) {
        const neo4j = new Neo4jGraphStore(deps.config.neo4j);
        closers.push(() => neo4j.close());
        await neo4j.init();
        store = neo4j;
      } else {
        const dataSource = await openSubgraphDatabase(deps.database, ENTITY_DATABASE);
        closers.push(async () => {
          if (dataSource.isInitialized) await dataSource.destroy();
        });
        store = new PostgresGraphStore(dataSource);
      }
    }
    let embedder = deps.embedder;
    if (!embedder) {
      const { config } = deps;
      const own = await createEmbedder(
        config.embeddings ?? {
          timeoutMs: config.llm?.timeoutMs ?? 30_000,
          maxRetries: config.llm?.maxRetries ?? 2,
        },
      );
      closers.push(() => own.close());
      embedder = own;
    }
    const entities = new EntityService(store, embedder, deps.config.entityMatchThreshold);
    const schema = await buildEntitySchema();
    const graph = store;
    return {
      name: 'entity',
      schema,
      entities,
      createContext: (identity: Identity): EntityContext => ({
        identity,
        entities,
        loaders: createLoaders(entities),
      }),
      internalRoutes: (router: Router) => {
        // Called by the memory pipeline with a signed service identity (subgraph-server checks it).
        router.post('/resolve', async (req, res) => {
          const { orgId, items } = req.body as { orgId: string; items: MentionsToResolve[] };
          res.json({ entityIds: Object.fromEntries(await entities.resolve(orgId, items)) });
        });
        router.post('/link', async (req, res) => {
          const { orgId, links } = req.body as { orgId: string; links: MemoryLinks[] };
          await entities.link(orgId, links);
          res.json({ ok: true });
        });
        router.post('/unlink', async (req, res) => {
          const { orgId, memoryIds } = req.body as { orgId: string; memoryIds: string[] };
          res.json({ removed: await entities.unlink(orgId, memoryIds) });
        });
        router.post('/forget-actor', async (req, res) => {
          const { orgId, actorId } = req.body as { orgId: string; actorId: string };
          res.json({ removed: await entities.forgetActor(orgId, actorId) });
        });
        router.post('/delete-scope', async (req, res) => {
          const { orgId, scope } = req.body as {
            orgId: string;
            scope: { level: 'ROLE' | 'TEAM'; id: string };
          };
          await entities.deleteScope(orgId, scope);
          res.json({ ok: true });
        });
        router.post('/delete-org', async (req, res) => {
          const { orgId } = req.body as { orgId: string };
          await entities.deleteOrg(orgId);
          res.json({ ok: true });
        });
      },
      isReady: async () => {
        await graph.ping();
        return true;
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
