import type { FormattedExecutionResult } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { GraphQLResponse, TestStack } from './stack';

/** Every field of an IngestionJob. */
export const JOB_FIELDS =
  'jobId orgId kind priority status stage processed failed total errors message createdAt startedAt finishedAt';

/** Every scalar field of a Memory, with scope, provenance and mentions. */
export const MEMORY_FIELDS = `id orgId content category scope { level id }
  provenance { eventIds documentId documentVersion chunkIndex sourceMemoryIds }
  validFrom validTo supersededBy expiresAt createdAt metadata embeddingModel mentions { name type }`;

export interface Job {
  jobId: string;
  orgId: string;
  kind: string;
  priority: 'REALTIME' | 'BOOTSTRAP';
  status: 'QUEUED' | 'RUNNING' | 'DONE' | 'FAILED';
  stage: string | null;
  processed: number;
  failed: number;
  total: number;
  errors: string[];
  message: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Memory {
  id: string;
  orgId: string;
  content: string;
  category: 'FACT' | 'PREFERENCE' | 'PROCEDURE' | 'EPISODE' | 'DOCUMENT';
  scope: { level: string; id: string };
  provenance: {
    eventIds: string[];
    documentId: string | null;
    documentVersion: number | null;
    chunkIndex: number | null;
    sourceMemoryIds: string[];
  };
  validFrom: string;
  validTo: string | null;
  supersededBy: string | null;
  expiresAt: string | null;
  createdAt: string;
  metadata: Record<string, unknown>;
  embeddingModel: string | null;
  mentions: Array<{ name: string; type: string }>;
}

export interface EventInput {
  eventId?: string;
  actorId: string;
  sessionId?: string;
  kind?: 'USER_MESSAGE' | 'ASSISTANT_MESSAGE' | 'TOOL_RESULT' | 'NOTE';
  content: string;
  roleId?: string;
  teamId?: string;
  occurredAt?: string;
  metadata?: Record<string, unknown>;
}

/** An EventInput with a session and kind filled in. */
export function event(input: EventInput): Required<Pick<EventInput, 'sessionId' | 'kind'>> & EventInput {
  return { sessionId: 'session-1', kind: 'USER_MESSAGE', ...input };
}

function check<T>(response: GraphQLResponse<T>, what: string): T {
  if (response.errors || !response.data)
    throw new Error(`${what} failed: ${JSON.stringify(response.errors)}`);
  return response.data;
}

export const INGEST_EVENTS = `mutation($orgId: ID, $events: [EventInput!]!, $priority: IngestionPriority! = REALTIME) {
  ingestEvents(orgId: $orgId, events: $events, priority: $priority) { ${JOB_FIELDS} }
}`;

export const INGEST_DOCUMENTS = `mutation($orgId: ID, $documents: [DocumentInput!]!, $scope: DocumentScopeInput,
  $priority: IngestionPriority! = BOOTSTRAP) {
  ingestDocuments(orgId: $orgId, documents: $documents, scope: $scope, priority: $priority) { ${JOB_FIELDS} }
}`;

export const CREATE_MEMORY = `mutation($input: CreateMemoryInput!) { createMemory(input: $input) { ${MEMORY_FIELDS} } }`;

/** Queues events; throws on an error. */
export async function ingestEvents(
  stack: TestStack,
  key: string,
  events: EventInput[],
  extra: { orgId?: string; priority?: string } = {},
): Promise<Job> {
  const data = check(
    await stack.gql<{ ingestEvents: Job }>(INGEST_EVENTS, { events: events.map(event), ...extra }, key),
    'ingestEvents',
  );
  return data.ingestEvents;
}

/** Queues documents; throws on an error. */
export async function ingestDocuments(
  stack: TestStack,
  key: string,
  documents: Array<{ documentId: string; content: string; metadata?: Record<string, unknown> }>,
  extra: { orgId?: string; scope?: Record<string, unknown>; priority?: string } = {},
): Promise<Job> {
  const data = check(
    await stack.gql<{ ingestDocuments: Job }>(INGEST_DOCUMENTS, { documents, ...extra }, key),
    'ingestDocuments',
  );
  return data.ingestDocuments;
}

/** Writes one memory; throws on an error. */
export async function createMemory(
  stack: TestStack,
  key: string,
  input: Record<string, unknown>,
): Promise<Memory> {
  return check(await stack.gql<{ createMemory: Memory }>(CREATE_MEMORY, { input }, key), 'createMemory')
    .createMemory;
}

/** Reads one job; throws on an error. */
export async function getJob(stack: TestStack, key: string, jobId: string): Promise<Job> {
  return check(
    await stack.gql<{ job: Job }>(
      `query($id: ID!) { job(jobId: $id) { ${JOB_FIELDS} } }`,
      { id: jobId },
      key,
    ),
    'job',
  ).job;
}

/** Polls `job(jobId)` until it is DONE or FAILED; fails after `timeoutMs`. */
export async function waitForJob(
  stack: TestStack,
  key: string,
  jobId: string,
  timeoutMs = 30_000,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJob(stack, key, jobId);
    if (job.status === 'DONE' || job.status === 'FAILED') return job;
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} still ${job.status} after ${timeoutMs} ms: ${JSON.stringify(job)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits for a job and asserts it finished DONE with every item processed and none failed. */
export async function expectJobDone(stack: TestStack, key: string, jobId: string): Promise<Job> {
  const job = await waitForJob(stack, key, jobId);
  expect({ status: job.status, failed: job.failed, errors: job.errors }).toEqual({
    status: 'DONE',
    failed: 0,
    errors: [],
  });
  expect(job.processed).toBe(job.total);
  return job;
}

export interface MemoryFilter {
  orgId?: string;
  level?: string;
  actorId?: string;
  roleId?: string;
  teamId?: string;
  documentId?: string;
  includeClosed?: boolean;
}

export const MEMORIES_QUERY = `query($orgId: ID, $level: ScopeLevel, $actorId: ID, $roleId: ID, $teamId: ID,
  $documentId: ID, $includeClosed: Boolean! = false, $first: Int, $after: String) {
  memories(orgId: $orgId, level: $level, actorId: $actorId, roleId: $roleId, teamId: $teamId,
    documentId: $documentId, includeClosed: $includeClosed, first: $first, after: $after) {
    nodes { ${MEMORY_FIELDS} }
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Every memory matching `filter` (all pages, oldest first); throws on an error. */
export async function listMemories(
  stack: TestStack,
  key: string,
  filter: MemoryFilter = {},
): Promise<Memory[]> {
  const all: Memory[] = [];
  let after: string | null = null;
  for (;;) {
    const data: { memories: { nodes: Memory[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } =
      check(await stack.gql(MEMORIES_QUERY, { ...filter, first: 500, after }, key), 'memories');
    all.push(...data.memories.nodes);
    if (!data.memories.pageInfo.hasNextPage) return all;
    after = data.memories.pageInfo.endCursor;
  }
}

/** One page of a connection as the API returns it. */
export interface Page<T> {
  nodes: T[];
  edges: Array<{ cursor: string; node: Partial<T> }>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

export const JOBS_QUERY = `query($orgId: ID, $status: JobStatus, $first: Int, $after: String) {
  jobs(orgId: $orgId, status: $status, first: $first, after: $after) {
    nodes { ${JOB_FIELDS} }
    edges { cursor node { jobId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Every job of the key's (or the named) org, newest first; throws on an error. */
export async function listJobs(stack: TestStack, key: string, orgId?: string): Promise<Job[]> {
  const all: Job[] = [];
  let after: string | null = null;
  for (;;) {
    const data: { jobs: { nodes: Job[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } = check(
      await stack.gql(JOBS_QUERY, { orgId, first: 500, after }, key),
      'jobs',
    );
    all.push(...data.jobs.nodes);
    if (!data.jobs.pageInfo.hasNextPage) return all;
    after = data.jobs.pageInfo.endCursor;
  }
}

/**
 * Everything of an org the memory API shows: every memory (closed ones included, with
 * history) and every job. Two snapshots are equal only when nothing of the org changed.
 */
export async function snapshotMemoryData(stack: TestStack, key: string, orgId?: string) {
  const memories = await listMemories(stack, key, { orgId, includeClosed: true });
  const jobs = await listJobs(stack, key, orgId);
  return { memories, jobs };
}

/** Creates (or updates) an actor of the key's org, optionally with a role and a team. */
export async function upsertActor(
  stack: TestStack,
  key: string,
  input: { actorId: string; roleId?: string; teamId?: string; orgId?: string },
): Promise<void> {
  check(
    await stack.gql(
      `mutation($input: UpsertActorInput!) { upsertActor(input: $input) { actorId } }`,
      { input },
      key,
    ),
    'upsertActor',
  );
}

export interface Progress {
  jobId: string;
  status: Job['status'];
  stage: string | null;
  processed: number;
  total: number;
  failed: number;
  errors: string[];
  message: string | null;
}

export const JOB_PROGRESS = `subscription($jobId: ID!) {
  jobProgress(jobId: $jobId) { jobId status stage processed total failed errors message }
}`;

export interface SubscriptionOutcome<T> {
  /** Every result received, in order. */
  results: Array<FormattedExecutionResult<T, unknown>>;
  /** What the subscription ended with, when not a normal completion. */
  error?: unknown;
  /** Whether the server completed the subscription. */
  completed: boolean;
  /** The websocket close event, when the server closed the connection. */
  closed?: { code: number; reason: string };
}

/**
 * Subscribes through the gateway over graphql-ws (`Authorization: Bearer <key>` in
 * connectionParams, none when `key` is null) and collects every result until the
 * subscription completes or fails, or `timeoutMs` passes (then it fails the test).
 * `onResult` sees each result as it arrives.
 */
export async function collectSubscription<T = Record<string, unknown>>(
  stack: TestStack,
  key: string | null,
  query: string,
  variables: Record<string, unknown>,
  options: { timeoutMs?: number; onResult?: (result: FormattedExecutionResult<T, unknown>) => void } = {},
): Promise<SubscriptionOutcome<T>> {
  const outcome: SubscriptionOutcome<T> = { results: [], completed: false };
  const client = createClient({
    url: stack.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: key ? { Authorization: `Bearer ${key}` } : undefined,
    lazy: true,
    retryAttempts: 0,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: unknown };
        outcome.closed = { code, reason: String(reason) };
      },
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`subscription still open after ${options.timeoutMs ?? 30_000} ms`)),
        options.timeoutMs ?? 30_000,
      );
      client.subscribe<T>(
        { query, variables },
        {
          next: (result) => {
            outcome.results.push(result);
            options.onResult?.(result);
          },
          error: (error) => {
            outcome.error = error;
            resolve();
          },
          complete: () => {
            outcome.completed = true;
            resolve();
          },
        },
      );
    });
  } finally {
    clearTimeout(timer);
    await client.dispose();
  }
  return outcome;
}
