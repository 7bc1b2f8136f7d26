import path from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * An embedded Postgres 18 + pgvector (PGlite, compiled to WASM) served over the Postgres wire
 * protocol on a loopback TCP port, so `pg` and TypeORM connect exactly as they would to a
 * server. PGlite runs in a worker thread of the calling process.
 *
 * Connections are serialised by protocol turn and by transaction (see
 * TurnSerialisingQueue): keep one pool connection per process (`max: 1`), and never await a
 * query on a second connection while a transaction is open: it would wait forever.
 */
export interface EmbeddedPostgres {
  /** `postgres://` URL to hand to `pg` / TypeORM. */
  readonly url: string;
  readonly port: number;
  /** Writes the whole data directory as a tarball (a template other instances can load). */
  dump(path: string): Promise<void>;
  /** Closes client sockets, stops the server, flushes and closes PGlite, ends the thread. */
  close(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Directory for the data files; in memory when omitted (tests). */
  dataDir?: string;
  /** Tarball (from {@link EmbeddedPostgres.dump}) to start from instead of an empty cluster. */
  loadFrom?: string;
  /** @default 0, a free port */
  port?: number;
  /** @default 127.0.0.1 */
  host?: string;
  /**
   * Postgres `shared_buffers` (e.g. `512MB`). Pages outside the buffer pool are read back
   * through the WASM file system, which costs far more than on a native server, so a larger
   * pool pays off once the data outgrows the default. @default PGlite's (128MB)
   */
  sharedBuffers?: string;
}

/** @internal shared with the worker */
export interface EmbeddedPostgresWorkerData {
  dataDir?: string;
  loadFrom?: string;
  port: number;
  host: string;
  sharedBuffers?: string;
}
/** @internal */
export type WorkerRequest = { type: 'dump'; id: number; path: string } | { type: 'close'; id: number };
/** @internal */
export type WorkerReply =
  | { type: 'ready'; port: number }
  | { type: 'failed'; message: string }
  | { type: 'dumped' | 'closed'; id: number }
  | { type: 'error'; id: number; message: string };

const WORKER_FILE = path.join(__dirname, 'embedded-postgres.worker.ts');

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  const workerData: EmbeddedPostgresWorkerData = {
    dataDir: options.dataDir,
    loadFrom: options.loadFrom,
    port: options.port ?? 0,
    host,
    sharedBuffers: options.sharedBuffers,
  };
  // The worker is TypeScript too: register the same swc loader the main thread uses.
  const worker = new Worker(WORKER_FILE, { workerData, execArgv: ['-r', '@swc-node/register'] });

  const port = await new Promise<number>((resolve, reject) => {
    const onMessage = (message: WorkerReply) => {
      if (message.type === 'ready') resolve(message.port);
      else if (message.type === 'failed')
        reject(new Error(`embedded Postgres failed to start: ${message.message}`));
      else return;
      worker.off('message', onMessage);
      worker.off('error', reject);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });

  let nextId = 1;
  const request = (message: WorkerRequest) =>
    new Promise<void>((resolve, reject) => {
      const onMessage = (reply: WorkerReply) => {
        if (!('id' in reply) || reply.id !== message.id) return;
        worker.off('message', onMessage);
        if (reply.type === 'error') reject(new Error(reply.message));
        else resolve();
      };
      worker.on('message', onMessage);
      worker.postMessage(message);
    });

  let closing: Promise<void> | undefined;
  return {
    url: `postgres://postgres:postgres@${host}:${port}/postgres?sslmode=disable`,
    port,
    dump: (file) => request({ type: 'dump', id: nextId++, path: file }),
    close: () =>
      (closing ??= request({ type: 'close', id: nextId++ })
        .catch(() => undefined)
        .then(async () => {
          await worker.terminate();
        })),
  };
}
