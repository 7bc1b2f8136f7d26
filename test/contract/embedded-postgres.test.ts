import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Pool, type PoolClient } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../common/db/embedded-postgres';

/**
 * The embedded Postgres (PGlite in a worker thread behind a wire-protocol socket server, with
 * the TurnSerialisingQueue in front of its single session): several connections at once,
 * transactions, persistence, dump/load and shutdown.
 */

/** The migrated template of the test run (when embedded): starts in ~1 s instead of ~4 s. */
const TEMPLATE = process.env.MEMSY_TEST_TEMPLATE;
const DIMENSIONS = 512;
const WORKERS = 8;
const ITERATIONS = 6;
/** ~80 kB per INSERT: a Bind message spans several TCP reads. */
const ROWS_PER_BATCH = 32;

/** Deterministic vector whose values are exact in float4 (multiples of 0.25 below 25). */
function vectorFor(seed: number): number[] {
  return Array.from({ length: DIMENSIONS }, (_, d) => ((seed * 31 + d * 7) % 97) / 4);
}

function vectorText(values: number[]): string {
  return `[${values.join(',')}]`;
}

function parseVector(text: string): number[] {
  return text.slice(1, -1).split(',').map(Number);
}

/** Live threads of this process (Linux): the PGlite worker is one of them. */
function threadCount(): number {
  return fs.readdirSync('/proc/self/task').length;
}

function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

function connectRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Lets the next message `client` writes through and holds every later one until `release()`:
 * the server then sees the first message of a protocol turn well before the rest.
 */
function holdWritesAfterFirst(client: Client): { release(): void } {
  const stream = (client as unknown as { connection: { stream: net.Socket } }).connection.stream;
  const original = stream.write;
  const held: unknown[][] = [];
  let passed = false;
  stream.write = function (this: net.Socket, ...args: unknown[]) {
    if (!passed) {
      passed = true;
      return (original as (...a: unknown[]) => boolean).apply(this, args);
    }
    held.push(args);
    return true;
  } as typeof stream.write;
  return {
    release() {
      stream.write = original;
      for (const args of held) (original as (...a: unknown[]) => boolean).apply(stream, args);
    },
  };
}

async function withClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

describe('embedded Postgres with several connections', () => {
  let postgres: EmbeddedPostgres;
  let pool: Pool;

  beforeAll(async () => {
    postgres = await startEmbeddedPostgres({ loadFrom: TEMPLATE });
    pool = new Pool({ connectionString: postgres.url, max: WORKERS });
    // Different column orders and types, so a statement bound to the other table's
    // parameters fails or lands visibly in the wrong place.
    await pool.query(`CREATE TABLE stress_a (
      id text PRIMARY KEY, worker int NOT NULL, marker text NOT NULL, embedding vector(${DIMENSIONS}) NOT NULL)`);
    await pool.query(`CREATE TABLE stress_b (
      marker text NOT NULL, note text, embedding vector(${DIMENSIONS}) NOT NULL, worker int NOT NULL,
      id text PRIMARY KEY)`);
    await pool.query('CREATE TABLE tx_rows (tag text NOT NULL, n int NOT NULL)');
    await pool.query('CREATE TABLE split_a (id text PRIMARY KEY, marker text NOT NULL)');
    await pool.query('CREATE TABLE split_b (marker text NOT NULL, id text PRIMARY KEY, n int NOT NULL)');
  });
  afterAll(async () => {
    await pool?.end();
    await postgres?.close();
  });

  it(`keeps ${WORKERS} concurrent workers' parameterised vector batches in their own tables`, async () => {
    const worker = async (w: number) => {
      for (let i = 0; i < ITERATIONS; i++) {
        const aRows: unknown[] = [];
        const aValues: string[] = [];
        const bRows: unknown[] = [];
        const bValues: string[] = [];
        for (let r = 0; r < ROWS_PER_BATCH; r++) {
          const seed = w * 1000 + i * 10 + r;
          const p = aRows.length;
          aValues.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}::vector)`);
          aRows.push(`a-${w}-${i}-${r}`, w, 'a', vectorText(vectorFor(seed)));
          const q = bRows.length;
          bValues.push(`($${q + 1}, $${q + 2}, $${q + 3}::vector, $${q + 4}, $${q + 5})`);
          bRows.push('b', `note ${seed}`, vectorText(vectorFor(seed + 500)), w, `b-${w}-${i}-${r}`);
        }
        await pool.query(
          `INSERT INTO stress_a (id, worker, marker, embedding) VALUES ${aValues.join(', ')}`,
          aRows,
        );
        await pool.query(
          `INSERT INTO stress_b (marker, note, embedding, worker, id) VALUES ${bValues.join(', ')}`,
          bRows,
        );

        // Read-your-writes through whichever pool connection answers.
        const a = await pool.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM stress_a WHERE worker = $1 AND marker = $2',
          [w, 'a'],
        );
        expect(a.rows[0]!.n).toBe((i + 1) * ROWS_PER_BATCH);
        const probe = `b-${w}-${i}-${ROWS_PER_BATCH - 1}`;
        const b = await pool.query<{ embedding: string; note: string }>(
          'SELECT embedding::text AS embedding, note FROM stress_b WHERE id = $1',
          [probe],
        );
        expect(b.rows).toHaveLength(1);
        const seed = w * 1000 + i * 10 + ROWS_PER_BATCH - 1;
        expect(b.rows[0]!.note).toBe(`note ${seed}`);
        expect(parseVector(b.rows[0]!.embedding)).toEqual(vectorFor(seed + 500));
      }
    };
    const results = await Promise.allSettled(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);

    const perTable = WORKERS * ITERATIONS * ROWS_PER_BATCH;
    const counts = await pool.query<{ a: number; b: number; wrong_a: number; wrong_b: number }>(`SELECT
      (SELECT count(*)::int FROM stress_a) AS a,
      (SELECT count(*)::int FROM stress_b) AS b,
      (SELECT count(*)::int FROM stress_a WHERE marker <> 'a' OR id NOT LIKE 'a-%') AS wrong_a,
      (SELECT count(*)::int FROM stress_b WHERE marker <> 'b' OR id NOT LIKE 'b-%') AS wrong_b`);
    expect(counts.rows[0]).toEqual({ a: perTable, b: perTable, wrong_a: 0, wrong_b: 0 });

    const perWorker = await pool.query<{ worker: number; n: number }>(
      'SELECT worker, count(*)::int AS n FROM stress_a GROUP BY worker ORDER BY worker',
    );
    expect(perWorker.rows).toEqual(
      Array.from({ length: WORKERS }, (_, w) => ({ worker: w, n: ITERATIONS * ROWS_PER_BATCH })),
    );
    // Every row's vector is the one sent with its id.
    const rows = await pool.query<{ id: string; embedding: string }>(
      'SELECT id, embedding::text AS embedding FROM stress_a',
    );
    for (const row of rows.rows) {
      const [, w, i, r] = row.id.split('-').map(Number);
      expect(parseVector(row.embedding)).toEqual(vectorFor(w! * 1000 + i! * 10 + r!));
    }
  });

  it("runs a connection's whole protocol turn before another's, even when it arrives in pieces", async () => {
    const a = new Client({ connectionString: postgres.url });
    const b = new Client({ connectionString: postgres.url });
    await a.connect();
    await b.connect();
    try {
      // A's Parse reaches the server now; its Bind/Describe/Execute/Sync only later.
      const gate = holdWritesAfterFirst(a);
      const aInsert = a.query('INSERT INTO split_a (id, marker) VALUES ($1, $2)', ['a-1', 'a']);
      await sleep(50);
      let bDone = false;
      const bInsert = b
        .query('INSERT INTO split_b (marker, id, n) VALUES ($1, $2, $3)', ['b', 'b-1', 7])
        .then((result) => {
          bDone = true;
          return result;
        });
      await sleep(150);
      // Had B's Parse run now, it would have replaced A's unnamed statement under A's Bind.
      expect(bDone).toBe(false);
      gate.release();
      await expect(Promise.all([aInsert, bInsert])).resolves.toHaveLength(2);

      const rows = await pool.query(`SELECT
        (SELECT json_agg(json_build_object('id', id, 'marker', marker)) FROM split_a) AS a,
        (SELECT json_agg(json_build_object('id', id, 'marker', marker, 'n', n)) FROM split_b) AS b`);
      expect(rows.rows[0]).toEqual({
        a: [{ id: 'a-1', marker: 'a' }],
        b: [{ id: 'b-1', marker: 'b', n: 7 }],
      });
    } finally {
      await a.end();
      await b.end();
    }
  });

  it("does not run another connection's statement inside an open transaction", async () => {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      await a.query('BEGIN');
      await a.query("INSERT INTO tx_rows (tag, n) VALUES ('inside-a', 1)");

      let bDone = false;
      const bInsert = b.query("INSERT INTO tx_rows (tag, n) VALUES ('from-b', 2)").then((result) => {
        bDone = true;
        return result;
      });
      // B waits for A's transaction to end; A keeps working meanwhile.
      const seen = await a.query<{ tag: string }>(
        "SELECT tag FROM tx_rows WHERE tag IN ('inside-a', 'from-b') ORDER BY tag",
      );
      expect(seen.rows.map((row) => row.tag)).toEqual(['inside-a']);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(bDone).toBe(false);

      await a.query('ROLLBACK');
      await bInsert;
      const after = await pool.query<{ tag: string }>(
        "SELECT tag FROM tx_rows WHERE tag IN ('inside-a', 'from-b') ORDER BY tag",
      );
      expect(after.rows.map((row) => row.tag)).toEqual(['from-b']);

      // And a committed transaction stays.
      await a.query('BEGIN');
      await a.query("INSERT INTO tx_rows (tag, n) VALUES ('committed-a', 3)");
      await a.query('COMMIT');
      const committed = await b.query("SELECT n FROM tx_rows WHERE tag = 'committed-a'");
      expect(committed.rows).toEqual([{ n: 3 }]);
    } finally {
      a.release();
      b.release();
    }
  });

  it('keeps concurrent transactions on different connections isolated', async () => {
    const transactions = 16;
    const rowsPerTransaction = 5;
    const run = async (t: number) => {
      const commit = t % 2 === 0;
      const tag = `${commit ? 'commit' : 'rollback'}-${t}`;
      const client: PoolClient = await pool.connect();
      try {
        await client.query('BEGIN');
        for (let n = 0; n < rowsPerTransaction; n++) {
          await client.query('INSERT INTO tx_rows (tag, n) VALUES ($1, $2)', [tag, n]);
          // Something unrelated between the transaction's statements, on another connection.
          if (n === 2) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const inside = await client.query<{ mine: number; others_rolled_back: number }>(
          `SELECT count(*) FILTER (WHERE tag = $1)::int AS mine,
                  count(*) FILTER (WHERE tag LIKE 'rollback-%' AND tag <> $1)::int AS others_rolled_back
           FROM tx_rows`,
          [tag],
        );
        await client.query(commit ? 'COMMIT' : 'ROLLBACK');
        return inside.rows[0]!;
      } finally {
        client.release();
      }
    };
    const inside = await Promise.all(Array.from({ length: transactions }, (_, t) => run(t)));
    // Each transaction saw all of its own rows and never another one's uncommitted rows.
    expect(inside).toEqual(
      Array.from({ length: transactions }, () => ({ mine: rowsPerTransaction, others_rolled_back: 0 })),
    );

    const stored = await pool.query<{ tag: string; n: number }>(
      "SELECT tag, count(*)::int AS n FROM tx_rows WHERE tag LIKE 'commit-%' OR tag LIKE 'rollback-%' GROUP BY tag ORDER BY tag",
    );
    const expected = Array.from({ length: transactions / 2 }, (_, i) => ({
      tag: `commit-${i * 2}`,
      n: rowsPerTransaction,
    })).sort((x, y) => x.tag.localeCompare(y.tag));
    expect(stored.rows.sort((x, y) => x.tag.localeCompare(y.tag))).toEqual(expected);
  });

  it('rolls back what a connection left open when it disconnects, and serves the others', async () => {
    const dropped = new Client({ connectionString: postgres.url });
    await dropped.connect();
    await dropped.query('BEGIN');
    await dropped.query("INSERT INTO tx_rows (tag, n) VALUES ('abandoned', 1)");
    const other = pool.query("INSERT INTO tx_rows (tag, n) VALUES ('after-abandon', 1)");
    await dropped.end();
    await other;
    const rows = await pool.query<{ tag: string }>(
      "SELECT tag FROM tx_rows WHERE tag IN ('abandoned', 'after-abandon')",
    );
    expect(rows.rows.map((row) => row.tag)).toEqual(['after-abandon']);
  });
});

describe('embedded Postgres lifecycle', () => {
  const dirs: string[] = [];
  const started: EmbeddedPostgres[] = [];
  async function start(options: Parameters<typeof startEmbeddedPostgres>[0] = {}) {
    const postgres = await startEmbeddedPostgres(options);
    started.push(postgres);
    return postgres;
  }
  afterAll(async () => {
    for (const postgres of started) await postgres.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("runs with the shared_buffers it is given, and PGlite's default otherwise", async () => {
    const sized = await start({ sharedBuffers: '48MB' });
    const plain = await start();
    const setting = (url: string) =>
      withClient(url, async (client) => (await client.query('SHOW shared_buffers')).rows[0].shared_buffers);
    expect(await setting(sized.url)).toBe('48MB');
    expect(await setting(plain.url)).toBe('128MB');
  });

  it('keeps its data in dataDir across a close and a restart', async () => {
    const dataDir = tmpDir('memsy-pg-data-');
    dirs.push(dataDir);
    const first = await start({ dataDir });
    await withClient(first.url, async (client) => {
      await client.query('CREATE TABLE kept (id int PRIMARY KEY, label text, embedding vector(3))');
      await client.query("INSERT INTO kept VALUES (1, 'one', '[1,2,3]'), (2, 'two', '[4,5,6]')");
    });
    await first.close();

    const second = await start({ dataDir });
    const rows = await withClient(second.url, (client) =>
      client.query('SELECT id, label, embedding::text AS embedding FROM kept ORDER BY id'),
    );
    expect(rows.rows).toEqual([
      { id: 1, label: 'one', embedding: '[1,2,3]' },
      { id: 2, label: 'two', embedding: '[4,5,6]' },
    ]);
    await second.close();
  });

  it('starts a new instance from a dump with the same data, independent of the original', async () => {
    const dir = tmpDir('memsy-pg-dump-');
    dirs.push(dir);
    const tarball = path.join(dir, 'dump.tar');
    const original = await start({ loadFrom: TEMPLATE });
    await withClient(original.url, async (client) => {
      await client.query('CREATE SCHEMA app');
      await client.query('CREATE TABLE app.items (id int PRIMARY KEY, embedding vector(2))');
      await client.query(
        "INSERT INTO app.items SELECT g, ('[' || g || ',0]')::vector FROM generate_series(1, 50) g",
      );
    });
    await original.dump(tarball);
    expect(fs.statSync(tarball).size).toBeGreaterThan(0);
    // Written after the dump: must not show up in copies.
    await withClient(original.url, (client) => client.query('INSERT INTO app.items VALUES (51, NULL)'));

    const copy = await start({ loadFrom: tarball });
    const summary = await withClient(copy.url, (client) =>
      client.query<{ n: number; total: number; third: string }>(
        `SELECT count(*)::int AS n, sum(id)::int AS total,
                (SELECT embedding::text FROM app.items WHERE id = 3) AS third FROM app.items`,
      ),
    );
    expect(summary.rows).toEqual([{ n: 50, total: 1275, third: '[3,0]' }]);
    await withClient(copy.url, (client) => client.query('DELETE FROM app.items'));

    const copy2 = await start({ loadFrom: tarball });
    const count = await withClient(copy2.url, (client) =>
      client.query<{ n: number }>('SELECT count(*)::int AS n FROM app.items'),
    );
    expect(count.rows).toEqual([{ n: 50 }]);
    const originalCount = await withClient(original.url, (client) =>
      client.query<{ n: number }>('SELECT count(*)::int AS n FROM app.items'),
    );
    expect(originalCount.rows).toEqual([{ n: 51 }]);
    await Promise.all([original.close(), copy.close(), copy2.close()]);
  });

  it('close() is idempotent, frees the port and ends the worker thread', async () => {
    // Warm up once so lazily created process threads (libuv pool) are not counted below.
    await (await start({ loadFrom: TEMPLATE })).close();
    const before = threadCount();
    const postgres = await start({ loadFrom: TEMPLATE });
    expect(threadCount()).toBeGreaterThan(before);
    const client = new Client({ connectionString: postgres.url });
    await client.connect();
    client.on('error', () => undefined); // the server going away is expected

    const first = postgres.close();
    const second = postgres.close();
    await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);
    await expect(postgres.close()).resolves.toBeUndefined();

    expect(await until(() => threadCount() === before, 5_000)).toBe(true);
    expect(await connectRefused(postgres.port)).toBe(true);
    await client.end().catch(() => undefined);
  });
});
