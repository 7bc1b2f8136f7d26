/**
 * `npm start`: the whole stack in one process on embedded defaults (no Docker, no network,
 * no API key needed), or against `DATABASE_URL` when set. Ctrl-C stops it cleanly.
 */
import { ConfigError, loadConfig } from '../common/config';
import { startStack } from './stack';

async function main(): Promise<void> {
  const config = loadConfig();
  const started = Date.now();
  console.log(
    config.databaseUrl
      ? 'Memsy: connecting to DATABASE_URL…'
      : `Memsy: starting embedded Postgres in ${config.dataDir}…`,
  );
  const stack = await startStack(config);

  const graphiql = stack.url.replace('127.0.0.1', 'localhost');
  console.log(`
Memsy is running (${((Date.now() - started) / 1000).toFixed(1)} s)
  GraphiQL:  ${graphiql}   (open it in a browser)
  GraphQL:   POST ${graphiql}
  Health:    ${graphiql.replace('/graphql', '/health')}

  Platform admin key (${describeKeySource(stack.adminKeySource)}):
    ${stack.adminKey}
  Put it in GraphiQL's Headers tab as {"Authorization": "Bearer ${stack.adminKey}"}

Press Ctrl-C to stop.`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Memsy…`);
    stack
      .close()
      .then(() => {
        console.log('stopped.');
        process.exit(0);
      })
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function describeKeySource(source: 'config' | 'generated' | 'data-dir'): string {
  if (source === 'config') return 'from MEMSY_ADMIN_KEY';
  if (source === 'generated') return 'generated now, kept in the data directory';
  return 'kept in the data directory';
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
