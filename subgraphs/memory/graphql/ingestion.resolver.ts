import { Arg, Ctx, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { authorizeOrg } from '../../../common/authz';
import { decodeCursor, encodeCursor, pageSize } from '../../../common/pagination';
import type { MemoryContext } from '../context';
import type { Job } from '../storage/memory-store';
import { authorizeObject } from './access';
import { toJob, toProgress } from './mappers';
import {
  DocumentInput,
  DocumentScopeInput,
  EventInput,
  IngestionJob,
  IngestionJobConnection,
  IngestionPriority,
  JobProgress,
  JobStatus,
} from './types';

const FINAL: ReadonlySet<string> = new Set(['DONE', 'FAILED']);
/** How often a progress subscription re-reads its job when nothing local signalled a change. */
const PROGRESS_POLL_MS = 500;

@Resolver()
export class IngestionResolver {
  @Mutation(() => IngestionJob, {
    description: 'Queues conversation events; returns the job at once. Accepted whole or refused whole.',
  })
  async ingestEvents(
    @Arg('events', () => [EventInput]) events: EventInput[],
    @Arg('priority', () => IngestionPriority, { defaultValue: IngestionPriority.REALTIME })
    priority: IngestionPriority,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<IngestionJob> {
    const org = authorizeOrg(ctx.identity, orgId, 'ingestEvents', 'write');
    const job = await ctx.services.ingestion.ingestEvents(org, events, priority);
    ctx.services.workQueued();
    return toJob(job);
  }

  @Mutation(() => IngestionJob, {
    description:
      'Queues org (or role/team) documents; re-ingesting a documentId replaces its previous version.',
  })
  async ingestDocuments(
    @Arg('documents', () => [DocumentInput]) documents: DocumentInput[],
    @Arg('priority', () => IngestionPriority, { defaultValue: IngestionPriority.BOOTSTRAP })
    priority: IngestionPriority,
    @Arg('scope', () => DocumentScopeInput, { nullable: true }) scope: DocumentScopeInput | undefined,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<IngestionJob> {
    const org = authorizeOrg(ctx.identity, orgId, 'ingestDocuments', 'write');
    const job = await ctx.services.ingestion.ingestDocuments(org, documents, priority, scope);
    ctx.services.workQueued();
    return toJob(job);
  }

  @Query(() => IngestionJob)
  async job(@Arg('jobId', () => ID) jobId: string, @Ctx() ctx: MemoryContext): Promise<IngestionJob> {
    const job = await ctx.loaders.jobs.load(jobId);
    authorizeObject(ctx.identity, job?.orgId, `Job "${jobId}" not found`, 'job', 'read');
    return toJob(job!);
  }

  @Query(() => IngestionJobConnection, { description: 'Jobs of an org, newest first.' })
  async jobs(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Arg('status', () => JobStatus, { nullable: true }) status: JobStatus | undefined,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<IngestionJobConnection> {
    const org = authorizeOrg(ctx.identity, orgId, 'jobs', 'read');
    const size = pageSize(first);
    const rows = await ctx.services.store.listJobs(org, status, {
      first: size + 1,
      after: decodeCursor(after),
    });
    return connection(rows, size, (job) => ({ createdAt: job.createdAt, id: job.jobId }), toJob);
  }

  @Subscription(() => JobProgress, {
    description:
      'Progress of a job: the current state at once, then every change, ending with DONE or FAILED.',
    subscribe: ({ args, context }) => progress(context as MemoryContext, args.jobId as string),
  })
  jobProgress(@Root() progressEvent: JobProgress, @Arg('jobId', () => ID) _jobId: string): JobProgress {
    return progressEvent;
  }
}

async function* progress(ctx: MemoryContext, jobId: string): AsyncGenerator<JobProgress> {
  const [first] = await ctx.services.store.getJobs([jobId]);
  authorizeObject(ctx.identity, first?.orgId, `Job "${jobId}" not found`, 'jobProgress', 'read');
  let last = '';
  let job: Job | undefined = first;
  const stopped = new AbortController();
  try {
    while (job) {
      const report = toProgress(job);
      const key = JSON.stringify(report);
      if (key !== last) {
        last = key;
        yield report;
      }
      if (FINAL.has(job.status)) return;
      await ctx.services.jobEvents.next(jobId, PROGRESS_POLL_MS, stopped.signal);
      [job] = await ctx.services.store.getJobs([jobId]);
    }
  } finally {
    stopped.abort();
  }
}

export function connection<TRow, TNode>(
  rows: TRow[],
  size: number,
  cursorOf: (row: TRow) => { createdAt: Date; id: string },
  toNode: (row: TRow) => TNode,
) {
  const page = rows.slice(0, size);
  const edges = page.map((row) => ({ cursor: encodeCursor(cursorOf(row)), node: toNode(row) }));
  return {
    nodes: edges.map((edge) => edge.node),
    edges,
    pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
  };
}
