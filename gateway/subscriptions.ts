import type { Server as HttpServer } from 'node:http';
import {
  Kind,
  parse,
  print,
  type DocumentNode,
  type ExecutionArgs,
  type FormattedExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { createClient } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import WebSocket, { WebSocketServer } from 'ws';
import { IDENTITY_PARAM, signIdentity, type Identity } from '../common/identity';
import { authorizationFromConnectionParams, type KeyAuthenticator } from './auth';

/**
 * `@apollo/gateway` does not execute subscriptions, so the gateway forwards them over
 * graphql-ws to the subgraph that owns the subscription field, with the caller's verified
 * identity signed into that connection's `connection_init`. Queries and mutations sent over
 * the websocket are executed by the gateway itself.
 */
export interface SubscriptionForwarderOptions {
  httpServer: HttpServer;
  path: string;
  authenticator: KeyAuthenticator;
  internalSecret: string;
  /** Current API schema of the gateway (changes when the supergraph is reloaded). */
  schema: () => GraphQLSchema | undefined;
  supergraphSdl: string;
  /** Subgraph name → HTTP GraphQL URL. */
  subgraphUrls: Record<string, string>;
  /** Executes a query or mutation received over the websocket. */
  executeOperation: (args: ExecutionArgs, identity: Identity) => Promise<unknown>;
}

export function startSubscriptionForwarder(options: SubscriptionForwarderOptions): {
  close(): Promise<void>;
} {
  const owners = subscriptionOwners(options.supergraphSdl);
  const wsServer = new WebSocketServer({ server: options.httpServer, path: options.path });

  const cleanup = useServer<Record<string, unknown>, { identity?: Identity }>(
    {
      schema: () => {
        const schema = options.schema();
        if (!schema) throw new Error('gateway schema not loaded yet');
        return schema;
      },
      onConnect: async (ctx) => {
        try {
          ctx.extra.identity = await options.authenticator.authenticate(
            authorizationFromConnectionParams(ctx.connectionParams),
          );
          return true;
        } catch {
          return false; // graphql-ws closes with 4403 Forbidden
        }
      },
      execute: (args) =>
        options.executeOperation(args, (args.contextValue as { identity: Identity }).identity) as never,
      subscribe: (args) => forward(args, (args.contextValue as { identity: Identity }).identity),
      context: (ctx) => ({ identity: ctx.extra.identity! }),
      // Results here are already formatted (Apollo's executeOperation, or a subgraph's JSON),
      // so their errors are plain objects: graphql-ws's default `errors.map(e => e.toJSON())`
      // would throw and close the socket with 4500. Send them as they are (JSON.stringify
      // still calls toJSON on any real GraphQLError).
      onNext: (_ctx, _id, _payload, _args, result) => result as FormattedExecutionResult,
    },
    wsServer,
  );

  async function* forward(args: ExecutionArgs, identity: Identity): AsyncGenerator<Record<string, unknown>> {
    const field = rootField(args.document, args.operationName ?? undefined);
    const owner = field ? owners.get(field) : undefined;
    const url = owner ? options.subgraphUrls[owner] : undefined;
    if (!url) {
      yield {
        errors: [
          {
            message: `No subgraph serves the subscription field ${field}`,
            extensions: { code: 'BAD_USER_INPUT' },
          },
        ],
      };
      return;
    }
    const client = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      lazy: true,
      retryAttempts: 0,
      connectionParams: { [IDENTITY_PARAM]: signIdentity(identity, options.internalSecret) },
    });
    const results = client.iterate({
      query: print(args.document),
      variables: (args.variableValues ?? undefined) as Record<string, unknown> | undefined,
      operationName: args.operationName ?? undefined,
    });
    try {
      for await (const result of results) yield result as Record<string, unknown>;
    } catch (error) {
      // The subgraph's own `error` message arrives as its (already formatted) GraphQL errors.
      if (isFormattedErrors(error)) {
        yield { errors: error };
        return;
      }
      yield {
        errors: [
          {
            message: `Subscription to ${owner} failed: ${describe(error)}`,
            extensions: { code: 'INTERNAL_SERVER_ERROR' },
          },
        ],
      };
    } finally {
      await results.return?.(undefined);
      await client.dispose();
    }
  }

  return {
    close: async () => {
      await cleanup.dispose();
      await new Promise<void>((resolve) => wsServer.close(() => resolve()));
    },
  };
}

/** Subscription field → owning subgraph name, read from the supergraph's join directives. */
export function subscriptionOwners(supergraphSdl: string): Map<string, string> {
  const document = parse(supergraphSdl);
  const graphNames = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph') {
      for (const value of definition.values ?? []) {
        const name = directiveArgument(value.directives, 'join__graph', 'name');
        if (name) graphNames.set(value.name.value, name);
      }
    }
  }
  for (const definition of document.definitions) {
    if (
      (definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION) &&
      definition.name.value === 'Subscription'
    ) {
      const typeGraphs = (definition.directives ?? [])
        .filter((directive) => directive.name.value === 'join__type')
        .map((directive) => argumentValue(directive.arguments, 'graph'));
      for (const field of definition.fields ?? []) {
        const graph = directiveArgument(field.directives, 'join__field', 'graph') ?? typeGraphs[0];
        const name = graph ? graphNames.get(graph) : undefined;
        if (name) owners.set(field.name.value, name);
      }
    }
  }
  return owners;
}

type Directives = OperationDefinitionNode['directives'];

function directiveArgument(directives: Directives, directive: string, argument: string): string | undefined {
  const found = directives?.find((d) => d.name.value === directive);
  return found ? argumentValue(found.arguments, argument) : undefined;
}

function argumentValue(args: NonNullable<Directives>[number]['arguments'], name: string): string | undefined {
  const value = args?.find((arg) => arg.name.value === name)?.value;
  return value && (value.kind === Kind.STRING || value.kind === Kind.ENUM) ? value.value : undefined;
}

function rootField(document: DocumentNode, operationName: string | undefined): string | undefined {
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      (!operationName || definition.name?.value === operationName),
  );
  const selection = operation?.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
  return selection?.kind === Kind.FIELD ? selection.name.value : undefined;
}

function isFormattedErrors(error: unknown): error is Array<{ message: string }> {
  return (
    Array.isArray(error) &&
    error.length > 0 &&
    error.every(
      (e) => !!e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string',
    )
  );
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'reason' in error)
    return String((error as { reason: unknown }).reason);
  return String(error);
}
