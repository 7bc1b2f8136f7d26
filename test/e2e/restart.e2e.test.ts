import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorCodes, postGraphQL } from '../support/stack';

/**
 * `npm start` as a user runs it: a child process on the embedded database, stopped with
 * Ctrl-C (SIGINT) and started again on the same data directory.
 */

const REPO_ROOT = path.resolve(__dirname, '..', '..');
jest.setTimeout(240_000);
const START_TIMEOUT_MS = 90_000; // generous: CI runs two test files at once on two cores
const STOP_TIMEOUT_MS = 30_000;

interface Started {
  child: ChildProcess;
  /** The GraphQL URL printed in the banner. */
  url: string;
  adminKey: string;
  keySource: string;
  output: () => string;
}

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();
const dirs: string[] = [];

/** The parent's environment without anything that would change what `npm start` does. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (
      name === 'DATABASE_URL' ||
      name === 'MEMSY_ADMIN_KEY' ||
      name === 'MEMSY_INTERNAL_SECRET' ||
      name === 'HOST' ||
      name === 'PGLITE_PORT' ||
      name.startsWith('LLM_')
    )
      delete env[name];
  }
  return env;
}

function spawnStart(env: NodeJS.ProcessEnv): {
  child: ChildProcess;
  exited: Promise<Exited>;
  output(): string;
} {
  const child = spawn(process.execPath, ['-r', './scripts/register.js', 'scripts/start.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exited>((resolve) => {
    child.once('exit', (code, signal) => {
      // Let the pipes drain before reporting the output.
      setImmediate(() => {
        children.delete(child);
        resolve({ code, signal, stdout, stderr });
      });
    });
  });
  return { child, exited, output: () => `--- stdout\n${stdout}\n--- stderr\n${stderr}` };
}

/** Starts `npm start` and waits for its banner. */
async function start(dataDir: string, extraEnv: Record<string, string> = {}) {
  const { child, exited, output } = spawnStart({
    ...baseEnv(),
    MEMSY_DATA_DIR: dataDir,
    PORT: '0',
    ...extraEnv,
  });
  const banner = await new Promise<Started>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no banner within ${START_TIMEOUT_MS} ms\n${output()}`)),
      START_TIMEOUT_MS,
    );
    let text = '';
    const onData = (chunk: string) => {
      text += chunk;
      const url = /GraphiQL:\s+(http:\/\/\S+)/.exec(text);
      const key = /Platform admin key \(([^)]*)\):\s*\n\s*(msy_[A-Za-z0-9_-]+)\s*\n/.exec(text);
      if (url && key) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve({ child, url: url[1]!, adminKey: key[2]!, keySource: key[1]!, output });
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((result) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${result.code} before its banner\n${output()}`));
    });
  });
  return { ...banner, exited };
}

/** `promise`'s value, or null when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Sends SIGINT and waits for the process to end. */
async function interrupt(started: { child: ChildProcess; exited: Promise<Exited> }): Promise<Exited> {
  const began = Date.now();
  started.child.kill('SIGINT');
  const result = await within(started.exited, STOP_TIMEOUT_MS);
  if (!result) throw new Error(`npm start did not stop within ${STOP_TIMEOUT_MS} ms after SIGINT`);
  expect(Date.now() - began).toBeLessThan(STOP_TIMEOUT_MS);
  return result;
}

describe('npm start: stop with Ctrl-C and start again', () => {
  let dataDir: string;
  let firstKey: string;
  let orgId: string;
  let roleId: string;

  beforeAll(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsy-restart-'));
    dirs.push(dataDir);
  });
  afterAll(async () => {
    for (const child of children) {
      child.kill('SIGKILL');
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    }
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('starts on a free port with a generated admin key, serves requests, and stops cleanly on SIGINT', async () => {
    const started = await start(dataDir);
    expect(started.url).toMatch(/^http:\/\/localhost:\d+\/graphql$/);
    expect(started.url).not.toMatch(/:0\//);
    expect(started.keySource).toMatch(/generated/);
    firstKey = started.adminKey;
    expect(fs.readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim()).toBe(firstKey);

    const health = await fetch(started.url.replace('/graphql', '/health'));
    expect(health.status).toBe(200);

    orgId = `restart-${Date.now().toString(36)}`;
    const org = await postGraphQL(
      started.url,
      'mutation($input: CreateOrgInput!) { createOrg(input: $input) { orgId name } }',
      { input: { orgId, name: 'Restart Inc', focus: 'Surviving restarts' } },
      firstKey,
    );
    expect(org.errors).toBeUndefined();
    const role = await postGraphQL(
      started.url,
      'mutation($input: CreateLevelInput!) { createRole(input: $input) { roleId name } }',
      { input: { orgId, name: 'Night Operator', focus: 'Restarts at 3 am' } },
      firstKey,
    );
    expect(role.errors).toBeUndefined();
    roleId = role.data!.createRole.roleId;

    const stopped = await interrupt(started);
    expect({ code: stopped.code, signal: stopped.signal }).toEqual({ code: 0, signal: null });
    expect(stopped.stdout).toMatch(/SIGINT: stopping Memsy/);
    expect(stopped.stdout).toMatch(/\bstopped\.?\s*$/);
    expect(stopped.stderr).not.toMatch(/\bat .+:\d+:\d+/);
    // The port is free again.
    await expect(fetch(started.url.replace('/graphql', '/health'))).rejects.toThrow();
  });

  it('starts again on the same data directory with the same admin key and the same data', async () => {
    expect(firstKey).toBeDefined();
    const started = await start(dataDir);
    expect(started.adminKey).toBe(firstKey);
    expect(started.keySource).toMatch(/kept in the data directory/);

    const res = await postGraphQL(
      started.url,
      'query($orgId: ID) { org(orgId: $orgId) { orgId name focus roles { roleId name focus } } }',
      { orgId },
      started.adminKey,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data!.org).toEqual({
      orgId,
      name: 'Restart Inc',
      focus: 'Surviving restarts',
      roles: [{ roleId, name: 'Night Operator', focus: 'Restarts at 3 am' }],
    });

    const stopped = await interrupt(started);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toMatch(/stopped/);
  });

  it('uses MEMSY_ADMIN_KEY when it is set', async () => {
    const configured = 'msy_configuredKey_0123456789';
    const started = await start(dataDir, { MEMSY_ADMIN_KEY: configured });
    expect(started.adminKey).toBe(configured);
    expect(started.keySource).toMatch(/MEMSY_ADMIN_KEY/);

    const viewer = await postGraphQL(started.url, '{ orgs { orgId } }', {}, configured);
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data!.orgs).toEqual(expect.arrayContaining([{ orgId }]));
    const wrong = await postGraphQL(started.url, '{ orgs { orgId } }', {}, `${configured}x`);
    expect(errorCodes(wrong)).toEqual(['UNAUTHENTICATED']);

    const stopped = await interrupt(started);
    expect(stopped.code).toBe(0);
  });

  it('exits non-zero with a readable message and no stack trace on an invalid configuration', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memsy-badconfig-'));
    dirs.push(dir);
    const { exited } = spawnStart({ ...baseEnv(), MEMSY_DATA_DIR: dir, PORT: 'abc' });
    const result = await within(exited, 20_000);
    expect(result).not.toBeNull();
    expect(result!.code).not.toBe(0);
    expect(result!.code).not.toBeNull();
    expect(result!.stderr).toMatch(/Invalid configuration/);
    expect(result!.stderr).toMatch(/PORT/);
    expect(result!.stderr).not.toMatch(/\bat .+:\d+:\d+/);
    expect(result!.stdout).not.toMatch(/Memsy is running/);
    // Nothing was started, so nothing was written.
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
