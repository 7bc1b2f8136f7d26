import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
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
 * federated schema, with the reference resolvers (`__resolveReference`).
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
  // Reference resolvers go in with the others: `buildSubgraphSchema` is what stores
  // `__resolveReference` where `_entities` looks for it (the type's `extensions.apollo.subgraph`);
  // graphql-tools' `addResolversToSchema` would set an unused `type.resolveReference`, and
  // `_entities` would then echo representations back unchecked.
  const resolvers = createResolversMap(schema) as Record<string, Record<string, unknown>>;
  for (const [typeName, typeResolvers] of Object.entries(referenceResolvers ?? {})) {
    resolvers[typeName] = { ...resolvers[typeName], ...(typeResolvers as Record<string, unknown>) };
  }
  return buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`),
    resolvers: resolvers as GraphQLResolverMap<unknown>,
  });
}
