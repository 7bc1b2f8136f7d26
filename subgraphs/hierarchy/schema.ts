import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../common/federation';
import { ActorResolver, actorReferenceResolvers } from './graphql/actor.resolver';
import { ApiKeyResolver } from './graphql/api-key.resolver';
import { RoleResolver, TeamResolver } from './graphql/level.resolver';
import { OrgResolver } from './graphql/org.resolver';

/** The hierarchy subgraph's schema. Pure: needs no database, so `npm run schema` can print it. */
export function buildHierarchySchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    { resolvers: [OrgResolver, RoleResolver, TeamResolver, ActorResolver, ApiKeyResolver] },
    actorReferenceResolvers,
  );
}
