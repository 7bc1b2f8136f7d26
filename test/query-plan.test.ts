import fs from 'node:fs';
import path from 'node:path';
import { Supergraph, operationFromDocument } from '@apollo/federation-internals';
import { QueryPlanner, prettyFormatQueryPlan } from '@apollo/query-planner';
import { parse } from 'graphql';

/**
 * Issue 5: the context query is one federated operation. Its plan on the committed
 * supergraph must fetch the actor (and its role and team) from the hierarchy, then the
 * context from the memory subgraph, then the memories' entities from the entity subgraph.
 */
describe('query plan of the federated context query', () => {
  it('plans hierarchy → memory → entity', () => {
    const supergraph = Supergraph.build(
      fs.readFileSync(path.resolve(__dirname, '..', 'schema', 'supergraph.graphql'), 'utf8'),
    );
    const operation = operationFromDocument(
      supergraph.schema,
      parse(`query {
        actor(actorId: "user_42", orgId: "my-org") {
          context(query: "What is the refund policy?", limit: 8) {
            items { score explanation scope { level id }
                    memory { content provenance { eventIds documentId } entities { name type } } }
          }
        }
      }`),
    );
    const plan = prettyFormatQueryPlan(new QueryPlanner(supergraph).buildQueryPlan(operation));
    console.log(plan);
    const order = [...plan.matchAll(/Fetch\(service: "(\w+)"\)/g)].map((match) => match[1]);
    expect(order).toEqual(['hierarchy', 'memory', 'entity']);
    // The memory fetch receives the actor's role and team, fetched by the hierarchy (@requires).
    expect(plan).toMatch(/Fetch\(service: "memory"\) \{\s*\{\s*\.\.\. on Actor \{[^}]*roleId\s+teamId/);
  });
});
