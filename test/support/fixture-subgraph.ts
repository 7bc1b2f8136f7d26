import { buildSubgraphSchema } from '@apollo/subgraph';
import { GraphQLError, parse } from 'graphql';
import type { SubgraphName } from '../../common/config';
import { UpstreamError } from '../../common/errors';
import type { Identity } from '../../common/identity';
import { startSubgraphServer, type RunningServer } from '../../common/subgraph-server';

/**
 * A tiny federated subgraph with a subscription, for testing the gateway's subscription
 * forwarder before any real subgraph has one. `ticks(count)` emits `count` ticks, each
 * carrying the org of the identity the subgraph received (proving the gateway signed it into
 * the upstream `connection_init`).
 */
export const FIXTURE_SDL = `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

type Tick {
  n: Int!
  orgId: String
}

type Query {
  fixturePing: String
}

type Subscription {
    """
  Emits n = 1..count, one every few milliseconds. A negative count is refused up front;
  failAt makes the stream fail with a domain error instead of emitting tick number failAt;
  a negative failAt throws an unexpected (internal) error at tick -failAt instead.
  """
  ticks(count: Int!, failAt: Int): Tick!
}
`;

/** Pause before each tick: long enough that an early unsubscribe lands mid-stream. */
const TICK_INTERVAL_MS = 20;

export interface FixtureContext {
  identity: Identity;
}

/** What the fixture observed, for assertions. */
export interface FixtureState {
  /** Subscriptions whose generator is currently running. */
  active: number;
  /** Generators that finished, with how many ticks each emitted and whether it ran to the end. */
  finished: Array<{ emitted: number; completed: boolean }>;
  /** Identities the subgraph received on subscriptions. */
  identities: Identity[];
}

export interface RunningFixtureSubgraph extends RunningServer {
  state: FixtureState;
  /** Resolves once `finished` has at least `count` entries. */
  waitForFinished(count: number, timeoutMs?: number): Promise<void>;
}

export async function startFixtureSubgraph(internalSecret: string): Promise<RunningFixtureSubgraph> {
  const state: FixtureState = { active: 0, finished: [], identities: [] };
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((listener) => listener());

  const schema = buildSubgraphSchema({
    typeDefs: parse(FIXTURE_SDL),
    resolvers: {
      Query: { fixturePing: () => 'pong' },
      Subscription: {
        ticks: {
          subscribe: (
            _parent: unknown,
            { count, failAt }: { count: number; failAt?: number | null },
            context: FixtureContext,
          ) => {
            if (count < 0)
              throw new GraphQLError('count must not be negative', {
                extensions: { code: 'BAD_USER_INPUT' },
              });
            return ticks(count, failAt ?? undefined, context.identity);
          },
          resolve: (payload: unknown) => payload,
        },
      },
    } as never,
  });

  async function* ticks(
    count: number,
    failAt: number | undefined,
    identity: Identity,
  ): AsyncGenerator<{ n: number; orgId: string | null }> {
    state.active += 1;
    state.identities.push(identity);
    let emitted = 0;
    let completed = false;
    try {
      for (let n = 1; n <= count; n += 1) {
        await new Promise((resolve) => setTimeout(resolve, TICK_INTERVAL_MS));
        if (n === failAt) throw new UpstreamError(`tick ${n} failed`);
        if (failAt !== undefined && n === -failAt) throw new Error(`secret internals of tick ${n}`);
        emitted = n;
        yield { n, orgId: identity.kind === 'key' ? identity.orgId : null };
      }
      completed = true;
    } finally {
      state.active -= 1;
      state.finished.push({ emitted, completed });
      notify();
    }
  }

  const server = await startSubgraphServer<FixtureContext>(
    {
      // Not one of Memsy's real subgraphs: the name only shows up in /health.
      name: 'fixture' as SubgraphName,
      schema,
      createContext: (identity) => ({ identity }),
      close: async () => {},
    },
    { host: '127.0.0.1', port: 0, internalSecret },
  );

  return {
    ...server,
    state,
    waitForFinished: (count, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (state.finished.length < count) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `fixture: expected ${count} finished subscriptions, got ${JSON.stringify(state.finished)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      }),
  };
}
