import { DataSource, type EntitySchema, type MixedList } from 'typeorm';

/** Where a process's database lives; resolved once at boot (embedded or `DATABASE_URL`). */
export interface DatabaseTarget {
  url: string;
  /**
   * True for the embedded PGlite. It is a single session behind a turn-serialising socket
   * server, so a process keeps exactly one connection to it (see embedded-postgres.ts).
   */
  embedded: boolean;
}

export interface SubgraphDatabaseOptions {
  /** Postgres schema the subgraph owns; its migrations table lives there too. */
  schema: string;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  migrations: MixedList<Function | string>;
  /** Pool size against a server. @default 10 */
  poolSize?: number;
}

/**
 * Opens a TypeORM DataSource for one subgraph and brings its schema up to date with its
 * migrations (never `synchronize`). Concurrent starts of the same subgraph against one
 * server are serialised by an advisory lock. Close it with `dataSource.destroy()`.
 */
export async function openSubgraphDatabase(
  target: DatabaseTarget,
  options: SubgraphDatabaseOptions,
): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: target.url,
    schema: options.schema,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    uuidExtension: 'pgcrypto',
    extra: { max: target.embedded ? 1 : (options.poolSize ?? 10) },
  });
  await dataSource.initialize();
  try {
    await migrate(dataSource, options.schema, target.embedded);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  return dataSource;
}

async function migrate(dataSource: DataSource, schema: string, embedded: boolean): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  if (embedded) {
    // One process per embedded database in practice, and PGlite's advisory locks do not
    // exclude across connections anyway (DESIGN.md section 8).
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    await dataSource.runMigrations();
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`memsy:migrate:${schema}`]);
    try {
      await runner.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await dataSource.runMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`memsy:migrate:${schema}`]);
    }
  } finally {
    await runner.release();
  }
}
