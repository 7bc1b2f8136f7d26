import http from 'node:http';
import express from 'express';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer, type GraphQLRequestContext } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { Kind, print, type GraphQLSchema } from 'graphql';
import { formatError } from '../common/errors';
import { graphqlBodyErrorHandler, listenGraphQL, MAX_BODY_BYTES } from '../common/http';
import { IDENTITY_HEADER, signIdentity, type Identity } from '../common/identity';
import type { RunningServer } from '../common/http';
import { KeyAuthenticator } from './auth';
import { graphiqlPage } from './graphiql';
import { startSubscriptionForwarder } from './subscriptions';

export interface GatewayContext {
  identity: Identity;
}

export interface GatewayOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** The committed, composed supergraph (schema/supergraph.graphql). */
  supergraphSdl: string;
  /** Subgraph name → HTTP GraphQL URL; overrides the URLs recorded in the supergraph. */
  subgraphUrls: Record<string, string>;
  internalSecret: string;
  /** @default 2000 */
  authCacheTtlMs: number;
}

/**
 * The public entry point: authenticates API keys, plans federated queries over the
 * subgraphs (signing the caller's identity into every subgraph request), forwards
 * subscriptions, and serves GraphiQL, `/health` and `/ready`.
 */
export async function startGateway(options: GatewayOptions): Promise<RunningServer> {
  const hierarchyUrl = options.subgraphUrls.hierarchy;
  if (!hierarchyUrl) throw new Error('the gateway needs the hierarchy subgraph URL (it owns API keys)');
  const authenticator = new KeyAuthenticator(
    new URL('/internal/authenticate', hierarchyUrl).toString(),
    options.internalSecret,
    options.authCacheTtlMs,
  );

  let apiSchema: GraphQLSchema | undefined;
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url: options.subgraphUrls[name] ?? url,
        willSendRequest: ({ request, context }) => {
          // Every subgraph request carries the caller's identity, signed: subgraphs refuse
          // anything that did not come through here.
          if (context.identity)
            request.http?.headers.set(
              IDENTITY_HEADER,
              signIdentity(context.identity, options.internalSecret),
            );
        },
      }),
  });
  gateway.onSchemaLoadOrUpdate(({ apiSchema: schema }) => {
    apiSchema = schema;
  });

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: (formatted, error) => formatError(formatted, error),
    includeStacktraceInErrorResponses: false,
    // The process owner (scripts/start.ts) stops everything in order on SIGINT/SIGTERM.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      {
        // A revoked key must stop working at once: forget cached keys when a revocation (or the
        // deletion of an org, which deletes its keys) passes.
        async requestDidStart() {
          return {
            async willSendResponse(ctx: GraphQLRequestContext<GatewayContext>) {
              const revokes = ctx.operation?.selectionSet.selections.some(
                (selection) =>
                  selection.kind === Kind.FIELD &&
                  (selection.name.value === 'revokeApiKey' || selection.name.value === 'deleteOrg'),
              );
              if (revokes) authenticator.clear();
            },
          };
        },
      },
    ],
  });
  await apollo.start();

  const forwarder = startSubscriptionForwarder({
    httpServer,
    path: '/graphql',
    authenticator,
    internalSecret: options.internalSecret,
    schema: () => apiSchema,
    supergraphSdl: options.supergraphSdl,
    subgraphUrls: options.subgraphUrls,
    executeOperation: async (args, identity) => {
      const response = await apollo.executeOperation(
        {
          query: print(args.document),
          variables: (args.variableValues ?? undefined) as Record<string, unknown> | undefined,
          operationName: args.operationName ?? undefined,
        },
        { contextValue: { identity } },
      );
      return response.body.kind === 'single'
        ? response.body.singleResult
        : { errors: [{ message: 'Incremental delivery is not supported over websockets' }] };
    },
  });

  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/ready', async (_req, res) => {
    const checks = await Promise.all(
      Object.entries(options.subgraphUrls).map(async ([name, url]) => {
        const ok = await fetch(new URL('/ready', url), { signal: AbortSignal.timeout(2000) })
          .then((r) => r.ok)
          .catch(() => false);
        return [name, ok] as const;
      }),
    );
    const ready = checks.every(([, ok]) => ok);
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not ready', subgraphs: Object.fromEntries(checks) });
  });
  app.get('/', (_req, res) => res.redirect('/graphql'));
  app.get('/graphql', (req, res, next) => {
    // Browsers get GraphiQL; GraphQL-over-HTTP GET requests go on to Apollo.
    if (req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html') {
      res.type('html').send(graphiqlPage());
      return;
    }
    next();
  });
  app.use(
    '/graphql',
    express.json({ limit: MAX_BODY_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req }) => ({
        identity: await authenticator.authenticate(req.header('authorization')),
      }),
    }),
  );
  app.use(graphqlBodyErrorHandler);

  return listenGraphQL(httpServer, options.host, options.port, async () => {
    await forwarder.close();
    await apollo.stop();
  });
}
