import { composeServices } from '@apollo/composition';
import { printSubgraphSchema } from '@apollo/subgraph';
import { lexicographicSortSchema, parse } from 'graphql';
import { SUBGRAPHS } from './subgraphs';

/**
 * The generated schema artifacts, by file name: one SDL per subgraph and the composed
 * supergraph. The supergraph records each subgraph's default local URL; the gateway
 * replaces them with the configured ones at run time.
 */
export async function generateSchemaFiles(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const services = [];
  for (const subgraph of SUBGRAPHS) {
    const sdl = `${printSubgraphSchema(lexicographicSortSchema(await subgraph.buildSchema())).trim()}\n`;
    files[`${subgraph.name}.graphql`] = sdl;
    services.push({
      name: subgraph.name,
      url: `http://localhost:${subgraph.defaultPort}/graphql`,
      typeDefs: parse(sdl),
    });
  }
  const composed = composeServices(services);
  if (composed.errors) {
    throw new Error(
      `supergraph composition failed:\n${composed.errors.map((error) => `  ${error.message}`).join('\n')}`,
    );
  }
  files['supergraph.graphql'] = `${composed.supergraphSdl.trim()}\n`;
  return files;
}
