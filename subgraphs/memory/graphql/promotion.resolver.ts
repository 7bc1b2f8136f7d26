import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { authorizeOrg } from '../../../common/authz';
import { NotFoundError } from '../../../common/errors';
import type { MemoryContext } from '../context';
import type { PromotionRunView } from '../services/promotion-service';
import type { Job } from '../storage/memory-store';
import { authorizeObject } from './access';
import { toJob } from './mappers';
import { PromotionJob, PromotionSettings, PromotionSettingsInput } from './promotion.types';

/** Memory promotion (issue 6): admin only, org admin or platform key; member keys get FORBIDDEN. */
@Resolver()
export class PromotionResolver {
  @Mutation(() => PromotionJob, {
    description:
      'Admin only. Promotes what several actors of a role (team) share to the role (team), and what several roles and teams share to the org, each judged with that level’s promotion prompt. Returns the job at once: progress on jobProgress(jobId), proposals with promotionJob(jobId). dryRun: judge and list, write nothing.',
  })
  async promoteMemories(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Arg('dryRun', () => Boolean, { defaultValue: false }) dryRun: boolean,
    @Ctx() ctx: MemoryContext,
  ): Promise<PromotionJob> {
    const org = authorizeOrg(ctx.identity, orgId, 'promoteMemories', 'admin');
    const { job, run } = await ctx.services.promotion.start(org, dryRun);
    return view(run, job);
  }

  @Query(() => PromotionJob, { description: 'Admin only. A promotion run with its proposals.' })
  async promotionJob(
    @Arg('jobId', () => ID) jobId: string,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<PromotionJob> {
    if (orgId !== undefined && orgId !== null) authorizeOrg(ctx.identity, orgId, 'promotionJob', 'admin');
    const run = await ctx.services.promotion.getRun(jobId);
    const notFound = `Promotion job "${jobId}" not found`;
    const org = authorizeObject(ctx.identity, run?.orgId, notFound, 'promotionJob', 'admin');
    if (orgId && org !== orgId) throw new NotFoundError(notFound);
    const job = await ctx.loaders.jobs.load(jobId);
    if (!job) throw new NotFoundError(notFound);
    return view(run!, job);
  }

  @Query(() => PromotionSettings, {
    description: "Admin only. The org's promotion thresholds and schedule.",
  })
  async promotionSettings(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<PromotionSettings> {
    const org = authorizeOrg(ctx.identity, orgId, 'promotionSettings', 'admin');
    return ctx.services.promotion.settings(org);
  }

  @Mutation(() => PromotionSettings, {
    description:
      "Admin only. Changes the org's promotion thresholds and schedule (intervalSeconds); null restores a default.",
  })
  async updatePromotionSettings(
    @Arg('input', () => PromotionSettingsInput) input: PromotionSettingsInput,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<PromotionSettings> {
    const org = authorizeOrg(ctx.identity, orgId, 'updatePromotionSettings', 'admin');
    return ctx.services.promotion.updateSettings(org, {
      minActorSupport: input.minActorSupport,
      minGroupSupport: input.minGroupSupport,
      clusterSimilarity: input.clusterSimilarity,
      minScore: input.minScore,
      intervalSeconds: input.intervalSeconds,
    });
  }
}

function view(run: PromotionRunView, job: Job): PromotionJob {
  return {
    jobId: run.jobId,
    orgId: run.orgId,
    status: job.status as PromotionJob['status'],
    dryRun: run.dryRun,
    judge: run.judge,
    settings: run.settings,
    proposals: run.proposals as unknown as PromotionJob['proposals'],
    job: toJob(job),
    createdAt: run.createdAt,
  };
}
