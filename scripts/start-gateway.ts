/**
 * `npm run start:gateway`: the gateway as its own process, in front of subgraphs started with
 * `npm run start:subgraph` (docker-compose). Subgraph URLs come from HIERARCHY_URL etc.,
 * defaulting to http://127.0.0.1:<HIERARCHY_PORT>/graphql.
 */
import fs from 'node:fs';
import { ConfigError, loadConfig } from '../common/config';
import { startGateway } from '../gateway';
import { stopOnSignals } from './start-subgraph';
import { SUPERGRAPH_FILE } from './stack';
import { SUBGRAPHS } from './subgraphs';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.internalSecret)
    throw new ConfigError('MEMSY_INTERNAL_SECRET is required to run the gateway as its own process');
  const subgraphUrls = Object.fromEntries(
    SUBGRAPHS.map(({ name }) => {
      const { url, port } = config.subgraphs[name];
      return [name, url ?? `http://127.0.0.1:${port}/graphql`];
    }),
  );
  const gateway = await startGateway({
    host: config.host,
    port: config.port,
    supergraphSdl: fs.readFileSync(SUPERGRAPH_FILE, 'utf8'),
    subgraphUrls,
    internalSecret: config.internalSecret,
    authCacheTtlMs: config.authCacheTtlMs,
  });
  console.log(`Memsy gateway on ${gateway.url} (GraphiQL in a browser)`);
  stopOnSignals(() => gateway.close());
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
