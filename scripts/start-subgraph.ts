/**
 * `npm run start:subgraph -- <name>`: one subgraph as its own process, as docker-compose runs
 * it. Needs DATABASE_URL (processes cannot share an embedded database) and
 * MEMSY_INTERNAL_SECRET (shared with the gateway). The hierarchy subgraph also registers
 * MEMSY_ADMIN_KEY as the platform admin key when it is set.
 */
import { ConfigError, loadConfig } from '../common/config';
import { startSubgraphServer } from '../common/subgraph-server';
import type { HierarchySubgraph } from '../subgraphs/hierarchy';
import { SUBGRAPHS } from './subgraphs';

async function main(): Promise<void> {
  const config = loadConfig();
  const name = process.argv[2];
  const definition = SUBGRAPHS.find((subgraph) => subgraph.name === name);
  if (!definition)
    throw new ConfigError(`usage: npm run start:subgraph -- <${SUBGRAPHS.map((s) => s.name).join('|')}>`);
  if (!config.databaseUrl)
    throw new ConfigError('DATABASE_URL is required to run a subgraph as its own process');
  if (!config.internalSecret)
    throw new ConfigError('MEMSY_INTERNAL_SECRET is required to run a subgraph as its own process');

  const subgraphUrls = Object.fromEntries(
    SUBGRAPHS.map(({ name: other }) => {
      const { url, port } = config.subgraphs[other];
      return [other, url ?? `http://127.0.0.1:${port}/graphql`];
    }),
  );
  const subgraph = await definition.create({
    config,
    database: { url: config.databaseUrl, embedded: false },
    internalSecret: config.internalSecret,
    subgraphUrls,
  });
  if (definition.name === 'hierarchy' && config.adminKey) {
    await (subgraph as HierarchySubgraph).services.apiKeys.ensurePlatformKey(config.adminKey);
  }
  const server = await startSubgraphServer(subgraph, {
    host: config.host,
    port: config.subgraphs[definition.name].port,
    internalSecret: config.internalSecret,
  });
  console.log(`Memsy ${definition.name} subgraph on ${server.url}`);
  stopOnSignals(() => server.close());
}

export function stopOnSignals(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  });
}
