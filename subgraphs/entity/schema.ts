import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../common/federation';
import { EntityResolver, MemoryEntitiesResolver, entityReferenceResolvers } from './graphql/entity.resolver';

/** The entity subgraph's schema. Pure: needs no database, so `npm run schema` can print it. */
export function buildEntitySchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    { resolvers: [EntityResolver, MemoryEntitiesResolver] },
    entityReferenceResolvers,
  );
}
