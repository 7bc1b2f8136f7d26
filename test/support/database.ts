import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { loadConfig } from '../../common/config';
import type { DatabaseTarget } from '../../common/db/data-source';
import { startEmbeddedPostgres } from '../../common/db/embedded-postgres';

/** A database of its own for one test file, and how to throw it away. */
export interface TestDatabase {
  target: DatabaseTarget;
  /** The server URL (DATABASE_URL) this database lives on, when not embedded. */
  serverUrl?: string;
  close(): Promise<void>;
}

/** `DATABASE_URL` of the test run, when tests should use a Postgres server. */
export function serverDatabaseUrl(): string | undefined {
  return loadConfig(process.env).databaseUrl;
}

/**
 * Embedded PGlite from the migrated template (the default), or a fresh database created on
 * the `DATABASE_URL` server and dropped afterwards.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = serverDatabaseUrl();
  if (!serverUrl) {
    const postgres = await startEmbeddedPostgres({ loadFrom: process.env.MEMSY_TEST_TEMPLATE });
    return { target: { url: postgres.url, embedded: true }, close: () => postgres.close() };
  }
  const name = `memsy_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    target: { url: url.toString(), embedded: false },
    serverUrl,
    close: async () => {
      const dropper = new Client({ connectionString: serverUrl });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/** One database a contract suite runs against. */
export interface DatabaseTargetFactory {
  name: string;
  open(): Promise<{ target: DatabaseTarget; close(): Promise<void> }>;
}

/**
 * Every configured target of the Postgres adapters: always the embedded Postgres (started
 * directly from the migrated template: with DATABASE_URL, createTestDatabase() would give the
 * server), and a Postgres server when DATABASE_URL is set. Contract suites `describe.each` it.
 */
export const DATABASE_TARGETS: DatabaseTargetFactory[] = [
  {
    name: 'embedded Postgres (PGlite)',
    open: async () => {
      const postgres = await startEmbeddedPostgres({ loadFrom: process.env.MEMSY_TEST_TEMPLATE });
      return { target: { url: postgres.url, embedded: true }, close: () => postgres.close() };
    },
  },
  ...(serverDatabaseUrl() ? [{ name: 'Postgres server (DATABASE_URL)', open: createTestDatabase }] : []),
];

/**
 * Says visibly, as a passing test, that the server target is not configured (rather than a
 * silently smaller suite), and checks that really is why.
 */
export function reportServerTarget(suite: string): void {
  if (serverDatabaseUrl()) return;
  describe(suite, () => {
    it('server target: not configured (set DATABASE_URL)', () => {
      expect(process.env.DATABASE_URL ?? '').toBe('');
      expect(DATABASE_TARGETS.map((target) => target.name)).toEqual(['embedded Postgres (PGlite)']);
    });
  });
}

/** A unique suffix per use, so tests of one file never see each other's rows by accident. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}
