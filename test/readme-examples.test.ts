import fs from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse, validate, type DefinitionNode, type GraphQLSchema } from 'graphql';

/**
 * The README is how newcomers meet the API: every GraphQL example in it must be valid against
 * the public (API) schema the gateway serves, so a rename breaks this test, not the docs.
 */
function apiSchema(): GraphQLSchema {
  const dir = path.resolve(__dirname, '..', 'schema');
  const services = fs
    .readdirSync(dir)
    .filter((file) => file.endsWith('.graphql') && file !== 'supergraph.graphql')
    .map((file) => ({
      name: file.replace('.graphql', ''),
      url: `http://localhost/${file}`,
      typeDefs: parse(fs.readFileSync(path.join(dir, file), 'utf8')),
    }));
  const composed = composeServices(services);
  if (composed.errors) throw new Error(composed.errors.map((error) => error.message).join('\n'));
  return composed.schema.toAPISchema().toGraphQLJSSchema();
}

function readmeOperations(): Array<{ block: number; definition: DefinitionNode; source: string }> {
  const readme = fs.readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);
  return blocks.flatMap((source, block) =>
    parse(source).definitions.map((definition) => ({ block, definition, source })),
  );
}

describe('README GraphQL examples', () => {
  const schema = apiSchema();
  const operations = readmeOperations();

  it('has examples to check', () => {
    expect(operations.length).toBeGreaterThanOrEqual(10);
  });

  it.each(operations.map((operation, i) => [i, operation] as const))(
    'example %i is valid against the API schema',
    (_i, operation) => {
      const errors = validate(schema, { kind: 'Document' as never, definitions: [operation.definition] });
      expect(errors.map((error) => error.message)).toEqual([]);
    },
  );
});
