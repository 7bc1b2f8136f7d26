import http from 'node:http';
import express, { type Router } from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { SubgraphName } from './config';
import { formatError } from './errors';
import { graphqlBodyErrorHandler, listenGraphQL, MAX_BODY_BYTES, type RunningServer } from './http';
import { IDENTITY_HEADER, IDENTITY_PARAM, verifyIdentity, type Identity } from './identity';

/** What a subgraph package provides; the server below is the same for all of them. */
export interface Subgraph<TContext extends { identity: Identity }> {
  readonly name: SubgraphName;
  readonly schema: GraphQLSchema;
  /** A fresh context (with its own DataLoaders) per request or per subscription event. */
  createContext(identity: Identity): TContext;
  /** Extra internal HTTP routes, mounted under `/internal` and guarded by the internal secret. */
  internalRoutes?(router: Router): void;
  /** Readiness beyond "the process is up", e.g. the database answers. */
  isReady?(): Promise<boolean>;
  /** Releases what the subgraph opened (database pools, workers). */
  close(): Promise<void>;
}

export type { RunningServer };

export interface SubgraphServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** HMAC secret shared with the gateway; requests not signed with it are refused. */
  internalSecret: string;
}

/**
 * Serves a subgraph over HTTP (`POST /graphql`) and graphql-ws (`/graphql`), with
 * `/health`, `/ready` and `/internal/*`. Every GraphQL request must carry an identity signed
 * by the gateway: a direct call gets UNAUTHENTICATED.
 */
export async function startSubgraphServer<TContext extends { identity: Identity }>(
  subgraph: Subgraph<TContext>,
  options: SubgraphServerOptions,
): Promise<RunningServer> {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);

  const wsServer = new WebSocketServer({ server: httpServer, path: '/graphql' });
  const wsCleanup = useServer<Record<string, unknown>, { identity?: Identity }>(
    {
      schema: subgraph.schema,
      onConnect: (ctx) => {
        try {
          ctx.extra.identity = verifyIdentity(
            ctx.connectionParams?.[IDENTITY_PARAM] as string,
            options.internalSecret,
          );
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx) => subgraph.createContext(ctx.extra.identity!),
      // Same error policy over websockets as over HTTP: domain codes kept, internals masked.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((error) => formatError(error.toJSON(), error)) }
          : undefined,
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => formatError(error.toJSON(), error)),
    },
    wsServer,
  );

  const apollo = new ApolloServer<TContext>({
    schema: subgraph.schema,
    formatError: (formatted, error) => formatError(formatted, error),
    includeStacktraceInErrorResponses: false,
    // The process owner (scripts/start.ts) stops everything in order on SIGINT/SIGTERM.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      { serverWillStart: async () => ({ drainServer: async () => void (await wsCleanup.dispose()) }) },
    ],
  });
  await apollo.start();

  app.get('/health', (_req, res) => void res.json({ status: 'ok', subgraph: subgraph.name }));
  app.get('/ready', async (_req, res) => {
    const ready = (await subgraph.isReady?.().catch(() => false)) ?? true;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', subgraph: subgraph.name });
  });
  if (subgraph.internalRoutes) {
    const router = express.Router();
    router.use(express.json({ limit: '5mb' }));
    router.use((req, res, next) => {
      try {
        verifyIdentity(req.header(IDENTITY_HEADER), options.internalSecret);
        next();
      } catch {
        res.status(401).json({ error: 'UNAUTHENTICATED' });
      }
    });
    subgraph.internalRoutes(router);
    app.use('/internal', router);
  }
  app.use(
    '/graphql',
    express.json({ limit: MAX_BODY_BYTES }),
    expressMiddleware(apollo, {
      context: async ({ req }) =>
        subgraph.createContext(verifyIdentity(req.header(IDENTITY_HEADER), options.internalSecret)),
    }),
  );
  app.use(graphqlBodyErrorHandler);

  return listenGraphQL(httpServer, options.host, options.port, async () => {
    await apollo.stop();
    await subgraph.close();
  });
}
