import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorRequestHandler } from 'express';

/**
 * Express error handler for the body parser: an oversized or malformed body still gets a
 * GraphQL-shaped error with a stable code instead of an HTML page.
 */
export const graphqlBodyErrorHandler: ErrorRequestHandler = (error, _req, res, next) => {
  const status = (error as { status?: number }).status;
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large' || status === 413) {
    res.status(413).json({
      errors: [{ message: 'Request body is too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
    return;
  }
  if (type === 'entity.parse.failed' || status === 400) {
    res
      .status(400)
      .json({ errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
    return;
  }
  next(error);
};

/** Request body limit of every GraphQL endpoint. Documents are chunked by the memory subgraph. */
export const MAX_BODY_BYTES = '10mb';

/** Idle keep-alive of every server; longer than any client's idle socket timeout. */
const KEEP_ALIVE_MS = 75_000;

/** A listening GraphQL server: its URL, port and an idempotent `close()`. */
export interface RunningServer {
  /** HTTP GraphQL endpoint, e.g. `http://127.0.0.1:4001/graphql`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts `httpServer` on host:port (0 picks a free port) and returns its GraphQL URL with a
 * `close()` that runs `shutdown` once, however often it is called.
 */
export async function listenGraphQL(
  httpServer: Server,
  host: string,
  port: number,
  shutdown: () => Promise<void>,
): Promise<RunningServer> {
  // Keep idle connections open longer than clients (the gateway's fetch agent) keep them, so a
  // client never reuses a socket the server is closing at that moment (ECONNRESET).
  httpServer.keepAliveTimeout = KEEP_ALIVE_MS;
  httpServer.headersTimeout = KEEP_ALIVE_MS + 1000;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  // A wildcard bind is reachable on loopback; URLs must name a real address.
  const hostForUrl = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${address.port}/graphql`,
    port: address.port,
    close: () => (closing ??= shutdown()),
  };
}
