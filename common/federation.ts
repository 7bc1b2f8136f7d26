import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { addResolversToSchema } from '@graphql-tools/schema';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap, type BuildSchemaOptions } from 'type-graphql';
import { DateTimeResolver, JSONObjectResolver } from 'graphql-scalars';

/** Federation spec every subgraph links; the one place that names it. */
const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@interfaceObject"])';

/** Scalars shared by every subgraph: `DateTime` (ISO-8601) and `JSONObject` (metadata). */
export const scalarsMap: BuildSchemaOptions['scalarsMap'] = [{ type: Date, scalar: DateTimeResolver }];
export { JSONObjectResolver as JSONObjectScalar };

/**
 * Builds a subgraph schema from type-graphql resolvers: type-graphql builds the schema, it is
 * printed with its directives (`@key` etc.), and `buildSubgraphSchema` turns that into a
 * federated schema. Reference resolvers (`__resolveReference`) are added last so no
 * transform drops them.
 */
export async function buildFederatedSchema(
  options: Omit<BuildSchemaOptions, 'skipCheck'>,
  referenceResolvers?: GraphQLResolverMap<unknown>,
): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    ...options,
    scalarsMap: [...(scalarsMap ?? []), ...(options.scalarsMap ?? [])],
    validate: false,
    skipCheck: true,
  });
  const federated = buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`),
    resolvers: createResolversMap(schema) as GraphQLResolverMap<unknown>,
  });
  if (referenceResolvers) {
    addResolversToSchema({ schema: federated, resolvers: referenceResolvers, updateResolversInPlace: true });
  }
  return federated;
}
