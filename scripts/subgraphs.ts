import type { GraphQLSchema } from 'graphql';
import type { Config, SubgraphName } from '../common/config';
import type { DatabaseTarget } from '../common/db/data-source';
import type { Identity } from '../common/identity';
import type { Subgraph } from '../common/subgraph-server';
import { buildHierarchySchema, createHierarchySubgraph } from '../subgraphs/hierarchy';

/**
 * Every subgraph Memsy runs, in start order. `npm start`, `npm run start:subgraph`,
 * `npm run schema` and the test stack all read this list, so a new subgraph is added here once.
 */
export interface SubgraphDefinition {
  name: SubgraphName;
  /** Port in the supergraph's default URLs (and for `start:subgraph`). */
  defaultPort: number;
  buildSchema(): Promise<GraphQLSchema>;
  create(deps: { config: Config; database: DatabaseTarget }): Promise<Subgraph<{ identity: Identity }>>;
}

export const SUBGRAPHS: SubgraphDefinition[] = [
  {
    name: 'hierarchy',
    defaultPort: 4001,
    buildSchema: buildHierarchySchema,
    create: ({ config, database }) => createHierarchySubgraph({ config, database }),
  },
];
