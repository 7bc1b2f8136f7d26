import { randomUUID } from 'node:crypto';
import { BadUserInputError, NotFoundError } from '../../../common/errors';
import type { Embedder } from '../embedding/embedder';
import type { MemoryCategory } from '../extraction/types';
import type { Job, MemoryStore, NewMemory, Scope, ScopeLevel } from '../storage/memory-store';
import type {
  PromotionCandidate,
  PromotionLevel,
  PromotionStore,
  StoredPromotionSettings,
} from '../storage/promotion-store';
import { contentHash } from './content';
import { centroid, clusterBySimilarity, dot, splitByValue } from './promotion-clustering';
import type { PromotionJudge } from './promotion-judge';
import type { OrgDirectory, ScopeDirectory } from './scope-directory';

/** The thresholds of promotion; each org may override the configured defaults. */
export interface PromotionSettings {
  /** Distinct actors of a role (team) sharing a memory for it to go to the role (team). */
  minActorSupport: number;
  /** Distinct roles and teams sharing a memory for it to go to the org. */
  minGroupSupport: number;
  /** Average-linkage cosine similarity at which memories are one statement. */
  clusterSimilarity: number;
  /** Judge score a cluster needs (the deterministic judge; the LLM decides itself). */
  minScore: number;
}

/** The configured defaults: thresholds and the interval of scheduled promotion. */
export interface PromotionDefaults extends PromotionSettings {
  /** PROMOTION_INTERVAL_SECONDS: seconds between automatic runs of an org; 0: never. */
  intervalSeconds: number;
}

export interface EffectivePromotionSettings extends PromotionSettings {
  orgId: string;
  /**
   * The org's own interval between automatic promotion runs: at most one scheduled run per
   * this many seconds; 0: never automatically; null: the default ({@link PromotionDefaults}).
   */
  intervalSeconds: number | null;
  /** The configured defaults the org's values fall back to. */
  defaults: PromotionDefaults;
  /** When an admin last changed them; null: never (all defaults). */
  updatedAt: Date | null;
}

/**
 * PROMOTE: a new memory at the target scope; UPDATE: the cluster's existing promoted memory
 * gains support or provenance; UNCHANGED: it already has all of it; REJECT: the judge said no;
 * ERROR: the judge failed (the message is the reason).
 */
export type PromotionDecision = 'PROMOTE' | 'UPDATE' | 'UNCHANGED' | 'REJECT' | 'ERROR';

/** One cluster with enough support, what the judge said of it and what was (or would be) written. */
export interface PromotionProposal {
  targetScope: Scope;
  targetName: string | null;
  /** The levels the sources live at (ACTOR, or ROLE and TEAM for the org). */
  sourceLevels: ScopeLevel[];
  statement: string;
  support: number;
  minSupport: number;
  /** Actor ids, or `ROLE:<id>` / `TEAM:<id>` for the org. */
  supporters: string[];
  score: number | null;
  minScore: number;
  decision: PromotionDecision;
  reason: string;
  /** The target level's promotion prompt the judge used. */
  prompt: string;
  judge: string;
  /**
   * Every memory of the cluster. In a dry run an org proposal may name a role or team
   * proposal that was not written, as `proposed:<LEVEL>:<id>:<n>`.
   */
  sourceMemoryIds: string[];
  /** The union of the sources' events. */
  eventIds: string[];
  /** The promoted memory written or updated (or that would be updated); null otherwise. */
  memoryId: string | null;
  /** Whether this run wrote it (false in a dry run and for REJECT, UNCHANGED, ERROR). */
  applied: boolean;
}

export interface PromotionRunView {
  jobId: string;
  orgId: string;
  dryRun: boolean;
  judge: string;
  settings: PromotionSettings;
  proposals: PromotionProposal[];
  createdAt: Date;
}

export interface PromotionServiceOptions {
  /** Called when a job changed (the jobProgress subscription listens). */
  onProgress?: (jobIds: readonly string[]) => void;
  log?: (message: string, error?: unknown) => void;
  now?: () => Date;
  /** PROMOTION_INTERVAL_SECONDS (what an org's null interval means); 0, the default: off. */
  defaultIntervalSeconds?: number;
}

/** What an admin may change; null: back to the default. */
export type PromotionSettingsPatch = Partial<
  Record<keyof PromotionSettings | 'intervalSeconds', number | null>
>;

/** The longest per-org interval (a year; longer ones are as good as 0). */
export const MAX_PROMOTION_INTERVAL_SECONDS = 31_536_000;

/** Newest memories read per group; clustering is O(n²) in them. */
export const MAX_CANDIDATES_PER_GROUP = 2000;
/** A promotion job unchanged for this long while unfinished lost its process. */
const STALE_JOB_SECONDS = 600;

const SETTING_RANGES: Record<keyof PromotionSettingsPatch, { min: number; max: number; integer: boolean }> = {
  intervalSeconds: { min: 0, max: MAX_PROMOTION_INTERVAL_SECONDS, integer: true },
  minActorSupport: { min: 2, max: 1000, integer: true },
  minGroupSupport: { min: 2, max: 1000, integer: true },
  clusterSimilarity: { min: 0.5, max: 0.99, integer: false },
  minScore: { min: 0, max: 1, integer: false },
};

class Interrupted extends Error {}

interface Member extends PromotionCandidate {
  /** Who supports the statement: an actor id, or `ROLE:<id>` / `TEAM:<id>`. */
  supporter: string;
}

interface Group {
  level: PromotionLevel;
  target: Scope;
  name: string | null;
  promotionPrompt: string;
  focus: string | null;
  sources: Scope[];
  minSupport: number;
}

/**
 * Memory promotion up the hierarchy (seed 000, DESIGN.md 3.7): what several actors of a role
 * share goes to the role, what several actors of a team share to the team, and what several
 * roles and teams share to the org. Each run:
 *
 * 1. reads the current memories of each role's (team's) actors, with their vectors, and
 *    clusters near-duplicates ({@link clusterBySimilarity});
 * 2. keeps clusters with enough distinct supporters, and looks for the promoted memory a
 *    cluster already has at the target scope (a memory promoted from any of its members, or
 *    one as similar as the cluster threshold): then the run only updates its support and
 *    provenance, so re-running is idempotent;
 * 3. otherwise asks the judge ({@link PromotionJudge}) with the target level's promotion
 *    prompt and writes the promoted memory: provenance `sourceMemoryIds` = every member,
 *    `eventIds` = the union of theirs, `metadata.promotion` = support, supporters, score,
 *    judge; the sources stay where they are;
 * 4. does the same for the org over role and team memories (those just promoted included).
 *
 * A run is a job (kind PROMOTE_MEMORIES): progress on `jobProgress`, proposals kept with the
 * run. A dry run judges everything and writes nothing but the job and its proposals.
 */
export class PromotionService {
  private readonly running = new Set<Promise<void>>();
  /** Vectors of the statements a dry run would have promoted (they feed its org step). */
  private readonly proposedEmbeddings = new WeakMap<PromotionProposal, Float32Array>();
  private closing = false;
  private readonly onProgress: (jobIds: readonly string[]) => void;
  private readonly log: (message: string, error?: unknown) => void;
  private readonly now: () => Date;
  private readonly defaultIntervalSeconds: number;
  private readonly settingsListeners = new Set<(orgId: string) => void>();

  constructor(
    private readonly store: MemoryStore,
    private readonly promotions: PromotionStore,
    private readonly directory: ScopeDirectory,
    private readonly embedder: Embedder,
    private readonly judge: PromotionJudge,
    private readonly defaults: PromotionSettings,
    options: PromotionServiceOptions = {},
  ) {
    this.onProgress = options.onProgress ?? (() => {});
    this.log = options.log ?? ((message, error) => console.error(`[memsy] ${message}:`, error));
    this.now = options.now ?? (() => new Date());
    this.defaultIntervalSeconds = options.defaultIntervalSeconds ?? 0;
  }

  get judgeId(): string {
    return this.judge.id;
  }

  // ---- settings ------------------------------------------------------------------------

  async settings(orgId: string): Promise<EffectivePromotionSettings> {
    return this.effective(orgId, await this.promotions.getSettings(orgId));
  }

  /**
   * Calls `listener` after an org's settings changed (the scheduler re-plans: an org may have
   * just got an interval). Returns the unsubscribe function.
   */
  onSettingsChanged(listener: (orgId: string) => void): () => void {
    this.settingsListeners.add(listener);
    return () => this.settingsListeners.delete(listener);
  }

  /** Sets the given thresholds and interval (null: back to the default); BAD_USER_INPUT out of range. */
  async updateSettings(orgId: string, patch: PromotionSettingsPatch): Promise<EffectivePromotionSettings> {
    await this.requireOrg(orgId);
    for (const [field, range] of Object.entries(SETTING_RANGES)) {
      const value = patch[field as keyof PromotionSettingsPatch];
      if (value === undefined || value === null) continue;
      if (
        !Number.isFinite(value) ||
        value < range.min ||
        value > range.max ||
        (range.integer && !Number.isInteger(value))
      )
        throw new BadUserInputError(
          `${field} must be ${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`,
          { field },
        );
    }
    const saved = await this.promotions.saveSettings(orgId, patch);
    for (const listener of this.settingsListeners) {
      try {
        listener(orgId);
      } catch (error) {
        this.log('a promotion settings listener failed', error);
      }
    }
    return this.effective(orgId, saved);
  }

  private effective(orgId: string, stored: StoredPromotionSettings | null): EffectivePromotionSettings {
    return {
      orgId,
      minActorSupport: stored?.minActorSupport ?? this.defaults.minActorSupport,
      minGroupSupport: stored?.minGroupSupport ?? this.defaults.minGroupSupport,
      clusterSimilarity: stored?.clusterSimilarity ?? this.defaults.clusterSimilarity,
      minScore: stored?.minScore ?? this.defaults.minScore,
      intervalSeconds: stored?.intervalSeconds ?? null,
      defaults: { ...plainSettings(this.defaults), intervalSeconds: this.defaultIntervalSeconds },
      updatedAt: stored && hasOverride(stored) ? stored.updatedAt : null,
    };
  }

  // ---- runs ----------------------------------------------------------------------------

  /**
   * Starts a promotion run of an org as a job and returns it at once; the run continues in
   * the background (its progress on `jobProgress`, its proposals with {@link getRun}).
   * NOT_FOUND for an unknown org.
   */
  async start(orgId: string, dryRun: boolean): Promise<{ job: Job; run: PromotionRunView }> {
    if (this.closing) throw new Error('the promotion service is closing');
    await this.requireOrg(orgId);
    const settings = await this.settings(orgId);
    const now = this.now();
    const job: Job = {
      jobId: `job_${randomUUID()}`,
      orgId,
      kind: 'PROMOTE_MEMORIES',
      priority: 'BOOTSTRAP',
      status: 'QUEUED',
      stage: null,
      processed: 0,
      failed: 0,
      total: 0,
      errors: [],
      message: dryRun ? 'dry run: nothing will be written' : null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    };
    const plain = plainSettings(settings);
    await this.promotions.transaction(async (promotions, memories) => {
      await memories.insertJob(job, []);
      await promotions.insertRun({
        jobId: job.jobId,
        orgId,
        dryRun,
        judge: this.judge.id,
        settings: { ...plain },
      });
    });
    const task = this.execute(job.jobId, orgId, dryRun, plain).finally(() => this.running.delete(task));
    this.running.add(task);
    return {
      job,
      run: {
        jobId: job.jobId,
        orgId,
        dryRun,
        judge: this.judge.id,
        settings: plain,
        proposals: [],
        createdAt: now,
      },
    };
  }

  /** Starts a run and waits for it to end (the scheduler, tests). */
  async run(orgId: string, dryRun: boolean): Promise<PromotionRunView> {
    const { job } = await this.start(orgId, dryRun);
    await Promise.all([...this.running]);
    return (await this.getRun(job.jobId))!;
  }

  async getRun(jobId: string): Promise<PromotionRunView | null> {
    const run = await this.promotions.getRun(jobId);
    if (!run) return null;
    return {
      jobId: run.jobId,
      orgId: run.orgId,
      dryRun: run.dryRun,
      judge: run.judge,
      settings: run.settings as unknown as PromotionSettings,
      proposals: run.proposals as PromotionProposal[],
      createdAt: run.createdAt,
    };
  }

  /** Marks promotion jobs whose process died as FAILED. */
  failStaleJobs(): Promise<number> {
    return this.promotions.failStaleJobs(STALE_JOB_SECONDS);
  }

  /** Stops runs at their next step (their jobs end FAILED, "interrupted") and waits for them. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.allSettled([...this.running]);
  }

  private async requireOrg(orgId: string): Promise<OrgDirectory> {
    const directory = await this.directory.lookup(orgId, []);
    if (!directory) throw new NotFoundError(`Org "${orgId}" not found`);
    return directory;
  }

  private async execute(jobId: string, orgId: string, dryRun: boolean, settings: PromotionSettings) {
    const proposals: PromotionProposal[] = [];
    const errors: string[] = [];
    let processed = 0;
    let total = 0;
    const report = async (update: Parameters<PromotionStore['updateJob']>[1]) => {
      await this.promotions.updateJob(jobId, update);
      this.onProgress([jobId]);
    };
    try {
      await report({ status: 'RUNNING', stage: 'collect', started: true });
      const actorIds = await this.promotions.actorsWithMemories(orgId);
      const directory = await this.directory.lookup(orgId, actorIds);
      if (!directory) throw new NotFoundError(`Org "${orgId}" not found`);
      const groups = actorGroups(directory, settings.minActorSupport);
      total = groups.length + 1;
      await report({ total, message: `${groups.length} roles and teams with actor memories` });

      for (const group of groups) {
        this.checkOpen();
        const members = (
          await this.promotions.candidates(
            orgId,
            group.sources,
            this.embedder.modelId,
            MAX_CANDIDATES_PER_GROUP,
          )
        ).map((candidate) => ({ ...candidate, supporter: candidate.scope.id }));
        const made = await this.promoteGroup(jobId, orgId, group, members, settings, dryRun, errors);
        proposals.push(...made);
        processed += 1;
        await report({
          stage: 'judge',
          processed,
          failed: errors.length,
          errors,
          message: `${group.level.toLowerCase()} ${group.name ?? group.target.id}: ${summary(made)}`,
        });
      }

      this.checkOpen();
      const org = orgGroup(orgId, directory, settings.minGroupSupport);
      const stored = (
        await this.promotions.candidates(orgId, org.sources, this.embedder.modelId, MAX_CANDIDATES_PER_GROUP)
      ).map((candidate) => ({ ...candidate, supporter: `${candidate.scope.level}:${candidate.scope.id}` }));
      // A dry run wrote nothing: what it would have promoted takes part as if it had been.
      const proposed = dryRun ? await this.virtualMembers(proposals) : [];
      const made = await this.promoteGroup(
        jobId,
        orgId,
        org,
        [...stored, ...proposed],
        settings,
        dryRun,
        errors,
      );
      proposals.push(...made);
      processed += 1;
      await this.promotions.saveProposals(jobId, proposals);
      await report({
        status: 'DONE',
        stage: 'done',
        processed,
        failed: errors.length,
        errors,
        finished: true,
        message: `${dryRun ? 'dry run, nothing written: ' : ''}${summary(proposals)}`,
      });
    } catch (error) {
      const message =
        error instanceof Interrupted ? 'interrupted: the service is shutting down' : describe(error);
      if (!(error instanceof Interrupted) && !(error instanceof NotFoundError))
        this.log(`promotion of org ${orgId} failed`, error);
      try {
        await this.promotions.saveProposals(jobId, proposals);
        await report({
          status: 'FAILED',
          stage: 'done',
          processed,
          total: Math.max(total, processed),
          failed: errors.length + 1,
          errors: [...errors, message],
          finished: true,
          message,
        });
      } catch (reportError) {
        this.log(`could not record the failure of promotion job ${jobId}`, reportError);
      }
    }
  }

  private checkOpen(): void {
    if (this.closing) throw new Interrupted();
  }

  /** Clusters one group's members and turns each cluster with enough support into a proposal. */
  private async promoteGroup(
    jobId: string,
    orgId: string,
    group: Group,
    members: Member[],
    settings: PromotionSettings,
    dryRun: boolean,
    errors: string[],
  ): Promise<PromotionProposal[]> {
    const proposals: PromotionProposal[] = [];
    const clusters = clusterBySimilarity(members, settings.clusterSimilarity).flatMap((cluster) =>
      // "We deploy on Thursdays" and "… on Mondays" embed alike: one value per proposal.
      splitByValue(byCentrality(cluster), (member) => member.content),
    );
    for (const cluster of clusters) {
      const supporters = [...new Set(cluster.map((member) => member.supporter))].sort();
      if (supporters.length < group.minSupport) continue;
      this.checkOpen();
      const proposal = await this.propose(jobId, orgId, group, cluster, supporters, settings, dryRun);
      if (proposal.decision === 'ERROR')
        errors.push(`${group.target.level} ${group.target.id}: ${proposal.reason}`);
      proposals.push(proposal);
    }
    return proposals;
  }

  private async propose(
    jobId: string,
    orgId: string,
    group: Group,
    cluster: Member[],
    supporters: string[],
    settings: PromotionSettings,
    dryRun: boolean,
  ): Promise<PromotionProposal> {
    const direction = centroid(cluster.map((member) => member.embedding));
    const ranked = byCentrality(cluster);
    const sourceMemoryIds = [...new Set(cluster.map((member) => member.id))].sort();
    const eventIds = [...new Set(cluster.flatMap((member) => member.eventIds))].sort();
    const base = {
      targetScope: group.target,
      targetName: group.name,
      sourceLevels: [...new Set(cluster.map((member) => member.scope.level))].sort(),
      support: supporters.length,
      minSupport: group.minSupport,
      supporters,
      minScore: settings.minScore,
      prompt: group.promotionPrompt,
      judge: this.judge.id,
      sourceMemoryIds,
      eventIds,
    };

    const existing = await this.existingPromoted(
      orgId,
      group.target,
      sourceMemoryIds,
      direction,
      settings,
      this.store,
    );
    if (existing) {
      const promotion = (existing.metadata.promotion ?? {}) as Record<string, unknown>;
      const changed = hasNews(existing, sourceMemoryIds, eventIds, supporters.length);
      const decision: PromotionDecision = changed ? 'UPDATE' : 'UNCHANGED';
      const proposal: PromotionProposal = {
        ...base,
        statement: existing.content,
        score: typeof promotion.score === 'number' ? promotion.score : null,
        decision,
        reason: changed
          ? `already promoted as ${existing.id}; support ${String(promotion.support ?? '?')} → ${supporters.length}`
          : `already promoted as ${existing.id} with this support and provenance`,
        memoryId: existing.id,
        applied: false,
      };
      if (changed && !dryRun) {
        proposal.memoryId = await this.write(jobId, orgId, group, proposal, existing.embedding, cluster);
        proposal.applied = true;
      }
      return proposal;
    }

    let judgement;
    try {
      judgement = await this.judge.judge({
        level: group.level,
        targetName: group.name,
        promotionPrompt: group.promotionPrompt,
        focus: group.focus,
        members: ranked.map((member) => ({ content: member.content, supporter: member.supporter })),
        centroid: direction,
        support: supporters.length,
        minSupport: group.minSupport,
        minScore: settings.minScore,
      });
    } catch (error) {
      return {
        ...base,
        statement: ranked[0]!.content,
        score: null,
        decision: 'ERROR',
        reason: describe(error),
        memoryId: null,
        applied: false,
      };
    }
    const proposal: PromotionProposal = {
      ...base,
      statement: judgement.statement,
      score: judgement.score,
      decision: judgement.promote ? 'PROMOTE' : 'REJECT',
      reason: judgement.reason,
      memoryId: null,
      applied: false,
    };
    if (!judgement.promote) return proposal;
    const embedding =
      judgement.statement === ranked[0]!.content
        ? ranked[0]!.embedding
        : (await this.embedder.embed([judgement.statement]))[0]!;
    if (dryRun) {
      this.proposedEmbeddings.set(proposal, embedding);
      return proposal;
    }
    proposal.memoryId = await this.write(jobId, orgId, group, proposal, embedding, cluster);
    proposal.applied = true;
    return proposal;
  }

  /**
   * The memory a cluster was already promoted to at `target`: one promoted from any of its
   * members, else a current memory there as similar to the cluster as its own members are.
   */
  private async existingPromoted(
    orgId: string,
    target: Scope,
    sourceMemoryIds: string[],
    direction: Float32Array,
    settings: PromotionSettings,
    memories: MemoryStore,
    promotions: PromotionStore = this.promotions,
  ): Promise<PromotionCandidate | null> {
    const [bySource] = await promotions.promotedFrom(orgId, target, sourceMemoryIds);
    if (bySource) return bySource;
    const [nearest] = await memories.findSimilar(orgId, target, this.embedder.modelId, direction, 1);
    if (!nearest || nearest.similarity < settings.clusterSimilarity) return null;
    const [candidate] = await promotions.getCandidates([nearest.id]);
    return candidate ?? null;
  }

  /** Inserts the promoted memory or updates the existing one, under the org's promotion lock. */
  private async write(
    jobId: string,
    orgId: string,
    group: Group,
    proposal: PromotionProposal,
    embedding: Float32Array,
    cluster: Member[],
  ): Promise<string> {
    const now = this.now();
    const realSources = proposal.sourceMemoryIds.filter((id) => !id.startsWith('proposed:'));
    return this.promotions.transaction(async (promotions, memories) => {
      await promotions.lockOrg(orgId);
      // Another run may have promoted the cluster since we looked: update rather than duplicate.
      const existing = await this.existingPromoted(
        orgId,
        group.target,
        realSources,
        embedding,
        { ...this.defaults, clusterSimilarity: 1.01 },
        memories,
        promotions,
      );
      const metadata = {
        support: proposal.support,
        minSupport: proposal.minSupport,
        supporters: proposal.supporters,
        sourceLevels: proposal.sourceLevels,
        score: proposal.score,
        judge: proposal.judge,
        jobId,
        updatedAt: now.toISOString(),
      };
      if (existing) {
        const previous = (existing.metadata.promotion ?? {}) as Record<string, unknown>;
        await promotions.updatePromoted(existing.id, {
          sourceMemoryIds: realSources,
          eventIds: proposal.eventIds,
          promotion: {
            ...metadata,
            score: previous.score ?? proposal.score,
            judge: previous.judge ?? proposal.judge,
            promotedAt: previous.promotedAt ?? now.toISOString(),
          },
        });
        return existing.id;
      }
      const mentions = await memories.mentions(realSources);
      const statement = proposal.statement.toLowerCase();
      const seen = new Set<string>();
      const kept = [...mentions.values()].flat().filter((mention) => {
        const key = `${mention.type}:${mention.name.toLowerCase()}`;
        if (seen.has(key) || !statement.includes(mention.name.toLowerCase())) return false;
        seen.add(key);
        return true;
      });
      const memory: NewMemory = {
        orgId,
        scope: group.target,
        actorId: null,
        content: proposal.statement,
        contentHash: contentHash(proposal.statement),
        category: majorityCategory(cluster),
        embedding,
        embeddingModel: this.embedder.modelId,
        provenance: {
          eventIds: proposal.eventIds,
          documentId: null,
          documentVersion: null,
          chunkIndex: null,
          sourceMemoryIds: realSources,
        },
        validFrom: now,
        expiresAt: null,
        metadata: { promotion: { ...metadata, promotedAt: now.toISOString() } },
        mentions: kept,
      };
      const { id, inserted } = await memories.insertMemory(memory);
      if (!inserted) {
        // The same statement already stood at the target scope: it gains the provenance.
        await promotions.updatePromoted(id, {
          sourceMemoryIds: realSources,
          eventIds: proposal.eventIds,
          promotion: { ...metadata, promotedAt: now.toISOString() },
        });
      }
      return id;
    });
  }

  /** Dry-run stand-ins for the role and team memories the run would have written. */
  private async virtualMembers(proposals: readonly PromotionProposal[]): Promise<Member[]> {
    const members: Member[] = [];
    let n = 0;
    for (const proposal of proposals) {
      const embedding = this.proposedEmbeddings.get(proposal);
      if (proposal.decision !== 'PROMOTE' || !embedding) continue;
      n += 1;
      const scope = proposal.targetScope;
      members.push({
        id: `proposed:${scope.level}:${scope.id}:${n}`,
        scope,
        content: proposal.statement,
        category: 'FACT',
        embedding,
        eventIds: proposal.eventIds,
        sourceMemoryIds: proposal.sourceMemoryIds,
        createdAt: this.now(),
        metadata: {},
        supporter: `${scope.level}:${scope.id}`,
      });
    }
    return members;
  }
}

/** Members most central first (nearest the cluster's centroid; ties: the oldest). */
function byCentrality<T extends PromotionCandidate>(cluster: readonly T[]): T[] {
  const direction = centroid(cluster.map((member) => member.embedding));
  return [...cluster].sort(
    (a, b) =>
      dot(b.embedding, direction) - dot(a.embedding, direction) ||
      a.createdAt.getTime() - b.createdAt.getTime(),
  );
}

/** The roles and teams of the org whose actors have memories, with their actors' scopes. */
function actorGroups(directory: OrgDirectory, minSupport: number): Group[] {
  const byRole = new Map<string, Scope[]>();
  const byTeam = new Map<string, Scope[]>();
  for (const [actorId, actor] of directory.actors) {
    const scope: Scope = { level: 'ACTOR', id: actorId };
    if (actor.roleId && directory.roles.has(actor.roleId))
      byRole.set(actor.roleId, [...(byRole.get(actor.roleId) ?? []), scope]);
    if (actor.teamId && directory.teams.has(actor.teamId))
      byTeam.set(actor.teamId, [...(byTeam.get(actor.teamId) ?? []), scope]);
  }
  const groups: Group[] = [];
  for (const [level, members, levels] of [
    ['ROLE', byRole, directory.roles],
    ['TEAM', byTeam, directory.teams],
  ] as const) {
    for (const [id, sources] of [...members].sort(([a], [b]) => a.localeCompare(b))) {
      const info = levels.get(id)!;
      groups.push({
        level,
        target: { level, id },
        name: info.name ?? null,
        promotionPrompt: info.promotionPrompt,
        focus: info.focus ?? null,
        sources,
        minSupport,
      });
    }
  }
  return groups;
}

/** The org, fed by every role and team of it. */
function orgGroup(orgId: string, directory: OrgDirectory, minSupport: number): Group {
  return {
    level: 'ORG',
    target: { level: 'ORG', id: orgId },
    name: directory.name ?? null,
    promotionPrompt: directory.promotionPrompt,
    focus: directory.focus ?? null,
    sources: [
      ...[...directory.roles.keys()].map((id): Scope => ({ level: 'ROLE', id })),
      ...[...directory.teams.keys()].map((id): Scope => ({ level: 'TEAM', id })),
    ],
    minSupport,
  };
}

function hasNews(existing: PromotionCandidate, sourceIds: string[], eventIds: string[], support: number) {
  const sources = new Set(existing.sourceMemoryIds);
  const events = new Set(existing.eventIds);
  const promotion = (existing.metadata.promotion ?? {}) as Record<string, unknown>;
  return (
    sourceIds.some((id) => !id.startsWith('proposed:') && !sources.has(id)) ||
    eventIds.some((id) => !events.has(id)) ||
    promotion.support !== support
  );
}

function majorityCategory(cluster: readonly Member[]): MemoryCategory {
  const counts = new Map<MemoryCategory, number>();
  for (const member of cluster) counts.set(member.category, (counts.get(member.category) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

function hasOverride(stored: StoredPromotionSettings): boolean {
  return [
    stored.minActorSupport,
    stored.minGroupSupport,
    stored.clusterSimilarity,
    stored.minScore,
    stored.intervalSeconds,
  ].some((value) => value !== null);
}

function plainSettings(settings: PromotionSettings): PromotionSettings {
  return {
    minActorSupport: settings.minActorSupport,
    minGroupSupport: settings.minGroupSupport,
    clusterSimilarity: settings.clusterSimilarity,
    minScore: settings.minScore,
  };
}

function summary(proposals: readonly PromotionProposal[]): string {
  const count = (decision: PromotionDecision) => proposals.filter((p) => p.decision === decision).length;
  return (
    `${proposals.length} proposals (${count('PROMOTE')} promote, ${count('UPDATE')} update, ` +
    `${count('UNCHANGED')} unchanged, ${count('REJECT')} rejected, ${count('ERROR')} failed)`
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
