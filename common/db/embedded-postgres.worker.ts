/**
 * Runs inside a worker thread: PGlite (with pgvector) and a Postgres wire-protocol socket
 * server in front of it. PGlite executes synchronously and would block the thread that runs
 * it, so it never runs on a server's main thread. See embedded-postgres.ts for the API.
 */
import net from 'node:net';
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketHandler } from '@electric-sql/pglite-socket';
import { TurnSerialisingQueue } from './turn-serialising-queue';
import type { EmbeddedPostgresWorkerData, WorkerReply, WorkerRequest } from './embedded-postgres';

async function main(): Promise<void> {
  const options = workerData as EmbeddedPostgresWorkerData;
  const loadDataDir = options.loadFrom ? new Blob([fs.readFileSync(options.loadFrom)]) : undefined;
  const db = await PGlite.create({
    dataDir: options.dataDir,
    extensions: { vector },
    loadDataDir,
    ...(options.sharedBuffers
      ? { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${options.sharedBuffers}`] }
      : {}),
  });
  await db.exec('CREATE EXTENSION IF NOT EXISTS vector');

  const queue = new TurnSerialisingQueue(db);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const handler = new PGLiteSocketHandler({
      // The handler only calls enqueue / clearQueueForHandler / clearTransactionIfNeeded /
      // getQueueLength, which TurnSerialisingQueue implements.
      queryQueue: queue as unknown as ConstructorParameters<typeof PGLiteSocketHandler>[0]['queryQueue'],
      closeOnDetach: true,
    });
    handler.attach(socket).catch(() => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;

  const reply = (message: WorkerReply) => parentPort!.postMessage(message);
  parentPort!.on('message', (request: WorkerRequest) => {
    void (async () => {
      try {
        if (request.type === 'dump') {
          const file = await db.dumpDataDir('none');
          fs.writeFileSync(request.path, Buffer.from(await file.arrayBuffer()));
          reply({ type: 'dumped', id: request.id });
        } else if (request.type === 'close') {
          for (const socket of sockets) socket.destroy();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          await db.close();
          reply({ type: 'closed', id: request.id });
        }
      } catch (error) {
        reply({ type: 'error', id: request.id, message: (error as Error).message });
      }
    })();
  });
  reply({ type: 'ready', port: address.port });
}

main().catch((error: unknown) => {
  parentPort!.postMessage({
    type: 'failed',
    message: (error as Error).stack ?? String(error),
  } satisfies WorkerReply);
});
