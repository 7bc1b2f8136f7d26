import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config, SubgraphName } from '../common/config';
import type { DatabaseTarget } from '../common/db/data-source';
import { startEmbeddedPostgres } from '../common/db/embedded-postgres';
import { startSubgraphServer, type RunningServer } from '../common/subgraph-server';
import { startGateway } from '../gateway';
import type { HierarchySubgraph } from '../subgraphs/hierarchy';
import { createEmbedder } from '../subgraphs/memory/embedding';
import { SUBGRAPHS } from './subgraphs';

export const SUPERGRAPH_FILE = path.resolve(__dirname, '..', 'schema', 'supergraph.graphql');

export interface Stack {
  /** Gateway GraphQL URL. */
  url: string;
  /** The platform admin key (configured, bootstrapped now, or kept from an earlier start). */
  adminKey: string;
  /** Where the admin key came from, for the start banner. */
  adminKeySource: 'config' | 'generated' | 'data-dir';
  subgraphUrls: Record<string, string>;
  database: DatabaseTarget;
  internalSecret: string;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Use this database instead of the configured one (tests bring their own). */
  database?: DatabaseTarget;
}

/**
 * Everything in one process, as `npm start` runs it: the database (embedded PGlite unless
 * `DATABASE_URL` is set), every subgraph on a free loopback port, and the gateway on
 * `config.port`. docker-compose runs the same pieces as separate processes instead.
 * Closing it stops them in reverse order.
 */
export async function startStack(config: Config, options: StackOptions = {}): Promise<Stack> {
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse())
      await closer().catch((error: unknown) => console.error('[memsy] close failed:', error));
  };
  try {
    const database = options.database ?? (await openConfiguredDatabase(config, closers));
    const internalSecret = config.internalSecret ?? randomBytes(32).toString('base64url');

    // One embedding model per process, shared by the memory and entity subgraphs.
    const embedder = await createEmbedder(
      config.embeddings ?? {
        timeoutMs: config.llm?.timeoutMs ?? 30_000,
        maxRetries: config.llm?.maxRetries ?? 2,
      },
    );
    closers.push(() => embedder.close());
    const subgraphUrls: Record<string, string> = {};
    const created = new Map<SubgraphName, unknown>();
    for (const definition of SUBGRAPHS) {
      const subgraph = await definition.create({ config, database, internalSecret, subgraphUrls, embedder });
      let server: RunningServer;
      try {
        server = await startSubgraphServer(subgraph, { host: '127.0.0.1', port: 0, internalSecret });
      } catch (error) {
        await subgraph.close();
        throw error;
      }
      closers.push(() => server.close());
      subgraphUrls[definition.name] = server.url;
      created.set(definition.name, subgraph);
    }

    const admin = await bootstrapAdminKey(config, created.get('hierarchy') as HierarchySubgraph);

    const gateway = await startGateway({
      host: config.host,
      port: config.port,
      supergraphSdl: fs.readFileSync(SUPERGRAPH_FILE, 'utf8'),
      subgraphUrls,
      internalSecret,
      authCacheTtlMs: config.authCacheTtlMs,
    });
    closers.push(() => gateway.close());

    return {
      url: gateway.url,
      adminKey: admin.key,
      adminKeySource: admin.source,
      subgraphUrls,
      database,
      internalSecret,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** `DATABASE_URL`, or the embedded Postgres with its files in `<dataDir>/pgdata`. */
async function openConfiguredDatabase(
  config: Config,
  closers: Array<() => Promise<void>>,
): Promise<DatabaseTarget> {
  if (config.databaseUrl) return { url: config.databaseUrl, embedded: false };
  const dataDir = path.join(config.dataDir, 'pgdata');
  fs.mkdirSync(dataDir, { recursive: true });
  const embedded = await startEmbeddedPostgres({
    dataDir,
    port: config.embeddedPostgresPort,
    sharedBuffers: config.embeddedPostgresSharedBuffers,
  });
  closers.push(() => embedded.close());
  return { url: embedded.url, embedded: true };
}

/**
 * The platform admin key: `MEMSY_ADMIN_KEY` when set; otherwise the one kept in
 * `<dataDir>/admin-key` from an earlier start; otherwise a new one, written there (mode 0600)
 * so the next start prints the same key.
 */
async function bootstrapAdminKey(
  config: Config,
  hierarchy: HierarchySubgraph,
): Promise<{ key: string; source: Stack['adminKeySource'] }> {
  if (config.adminKey) {
    await hierarchy.services.apiKeys.ensurePlatformKey(config.adminKey);
    return { key: config.adminKey, source: 'config' };
  }
  const file = path.join(config.dataDir, 'admin-key');
  if (fs.existsSync(file)) {
    const key = fs.readFileSync(file, 'utf8').trim();
    await hierarchy.services.apiKeys.ensurePlatformKey(key);
    return { key, source: 'data-dir' };
  }
  const key = `msy_${randomBytes(32).toString('base64url')}`;
  await hierarchy.services.apiKeys.ensurePlatformKey(key);
  fs.mkdirSync(config.dataDir, { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, source: 'generated' };
}
