/**
 * `npm run start:worker`: ingestion workers as their own process, next to memory subgraphs
 * started with MEMORY_WORKER=off (or alongside their in-process workers: claims are safe with
 * any number of workers). Needs DATABASE_URL, MEMSY_INTERNAL_SECRET and the hierarchy URL.
 */
import { ConfigError, loadConfig } from '../common/config';
import { createMemorySubgraph } from '../subgraphs/memory';
import { stopOnSignals } from './start-subgraph';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl)
    throw new ConfigError('DATABASE_URL is required to run workers as their own process');
  if (!config.internalSecret)
    throw new ConfigError('MEMSY_INTERNAL_SECRET is required to run workers as their own process');
  const { url, port } = config.subgraphs.hierarchy;
  const memory = await createMemorySubgraph({
    config: { ...config, memoryWorker: { ...config.memoryWorker, enabled: true } },
    database: { url: config.databaseUrl, embedded: false },
    internalSecret: config.internalSecret,
    hierarchyUrl: url ?? `http://127.0.0.1:${port}/graphql`,
  });
  console.log(
    `Memsy ingestion worker running (${config.memoryWorker.concurrency} × batches of ${config.memoryWorker.batchSize})`,
  );
  stopOnSignals(() => memory.close());
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
