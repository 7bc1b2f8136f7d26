import type { GraphQLSchema } from 'graphql';
import { buildFederatedSchema } from '../../common/federation';
import { ActorContextResolver, ContextQueryResolver } from './graphql/context.resolver';
import { IngestionResolver } from './graphql/ingestion.resolver';
import { ActorMemoriesResolver, MemoryResolver, memoryReferenceResolvers } from './graphql/memory.resolver';
import { PromotionResolver } from './graphql/promotion.resolver';
import { Actor } from './graphql/types';

/**
 * type-graphql insists on a PubSub once a subscription exists, but ours define `subscribe`
 * themselves (progress is read from the database, so it works across instances): no topics.
 */
const NO_TOPICS = {
  publish: () => {
    throw new Error('subscriptions of the memory subgraph do not use PubSub topics');
  },
  subscribe: () => {
    throw new Error('subscriptions of the memory subgraph do not use PubSub topics');
  },
};

/** The memory subgraph's schema. Pure: needs no database, so `npm run schema` can print it. */
export function buildMemorySchema(): Promise<GraphQLSchema> {
  return buildFederatedSchema(
    {
      resolvers: [
        IngestionResolver,
        MemoryResolver,
        ActorMemoriesResolver,
        ActorContextResolver,
        ContextQueryResolver,
        PromotionResolver,
      ],
      // Actor is reachable from no root field here; without this it would be left out of the
      // schema, and with it Actor.memories.
      orphanedTypes: [Actor],
      pubSub: NO_TOPICS,
    },
    memoryReferenceResolvers,
  );
}
