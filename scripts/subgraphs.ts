import type { GraphQLSchema } from 'graphql';
import type { Config, SubgraphName } from '../common/config';
import type { DatabaseTarget } from '../common/db/data-source';
import type { Identity } from '../common/identity';
import type { Subgraph } from '../common/subgraph-server';
import { buildHierarchySchema, createHierarchySubgraph } from '../subgraphs/hierarchy';
import { buildMemorySchema, createMemorySubgraph } from '../subgraphs/memory';
import { buildEntitySchema, createEntitySubgraph } from '../subgraphs/entity';
import { purgeInSubgraphs } from '../common/internal-client';
import type { Embedder } from '../subgraphs/memory/embedding';

/**
 * Every subgraph Memsy runs, in start order. `npm start`, `npm run start:subgraph`,
 * `npm run schema` and the test stack all read this list, so a new subgraph is added here once.
 */
export interface SubgraphDefinition {
  name: SubgraphName;
  /** Port in the supergraph's default URLs (and for `start:subgraph`). */
  defaultPort: number;
  buildSchema(): Promise<GraphQLSchema>;
  create(deps: SubgraphDeps): Promise<Subgraph<{ identity: Identity }>>;
}

export interface SubgraphDeps {
  config: Config;
  database: DatabaseTarget;
  /** Shared with the gateway; also signs service-to-service calls. */
  internalSecret: string;
  /** GraphQL URLs of the subgraphs started before this one (later subgraphs may call earlier ones). */
  subgraphUrls: Partial<Record<SubgraphName, string>>;
  /** One embedder shared by the subgraphs of a process (its owner closes it); each loads its own otherwise. */
  embedder?: Embedder;
}

export const SUBGRAPHS: SubgraphDefinition[] = [
  {
    name: 'hierarchy',
    defaultPort: 4001,
    buildSchema: buildHierarchySchema,
    create: ({ config, database, internalSecret, subgraphUrls }) =>
      createHierarchySubgraph({
        config,
        database,
        // Deleting an org, role or team purges it from the subgraphs started after this one.
        deletionHooks: purgeInSubgraphs(
          () => ['entity', 'memory'].flatMap((name) => subgraphUrls[name as SubgraphName] ?? []),
          internalSecret,
        ),
      }),
  },
  {
    name: 'entity',
    defaultPort: 4003,
    buildSchema: buildEntitySchema,
    create: ({ config, database, embedder }) => createEntitySubgraph({ config, database, embedder }),
  },
  {
    name: 'memory',
    defaultPort: 4002,
    buildSchema: buildMemorySchema,
    create: ({ config, database, internalSecret, subgraphUrls, embedder }) => {
      const hierarchyUrl = subgraphUrls.hierarchy;
      if (!hierarchyUrl) throw new Error('the memory subgraph needs the hierarchy subgraph URL');
      return createMemorySubgraph({
        config,
        database,
        internalSecret,
        hierarchyUrl,
        entityUrl: subgraphUrls.entity,
        embedder,
      });
    },
  },
];
