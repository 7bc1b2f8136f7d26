import type { MemoryCategory } from '../extraction/types';
import type { JobStatus, MemoryStore, Scope, ScopeLevel } from './memory-store';

/**
 * Storage port of memory promotion (issue 6): the memories that may be promoted, with their
 * vectors; the promoted memory of a cluster; per-org thresholds; promotion runs and their jobs.
 * The memories themselves are written through {@link MemoryStore} in the same transaction.
 */

/** A current memory that may take part in promotion, with its vector. */
export interface PromotionCandidate {
  id: string;
  scope: Scope;
  content: string;
  category: MemoryCategory;
  embedding: Float32Array;
  eventIds: string[];
  sourceMemoryIds: string[];
  createdAt: Date;
  metadata: Record<string, unknown>;
}

/** Per-org overrides of the promotion thresholds; null: the configured default. */
export interface StoredPromotionSettings {
  orgId: string;
  minActorSupport: number | null;
  minGroupSupport: number | null;
  clusterSimilarity: number | null;
  minScore: number | null;
  /** Seconds between automatic promotion runs of the org; 0: never; null: the configured default. */
  intervalSeconds: number | null;
  updatedAt: Date | null;
}

/** An org the scheduler may promote: it has actor memories and an interval above 0. */
export interface ScheduledOrg {
  orgId: string;
  /** The interval that applies: the org's own, else the configured default (always > 0 here). */
  intervalSeconds: number;
  /** Seconds since its latest promotion run (not a dry run) finished; null: none ever started. */
  secondsSinceLastRun: number | null;
  /** Its latest promotion run (not a dry run) has not finished yet. */
  running: boolean;
}

export interface PromotionRun {
  jobId: string;
  orgId: string;
  dryRun: boolean;
  judge: string;
  settings: Record<string, unknown>;
  /** The proposals, as the service wrote them (see PromotionProposal). */
  proposals: unknown[];
  createdAt: Date;
}

export interface JobUpdate {
  status?: JobStatus;
  stage?: string;
  processed?: number;
  total?: number;
  failed?: number;
  errors?: string[];
  message?: string;
  started?: boolean;
  finished?: boolean;
}

export interface PromotedMemoryUpdate {
  /** Added to the memory's sourceMemoryIds (never removed: provenance is never dropped). */
  sourceMemoryIds: readonly string[];
  /** Added to the memory's eventIds. */
  eventIds: readonly string[];
  /** Replaces `metadata.promotion`. */
  promotion: Record<string, unknown>;
}

export interface PromotionStore {
  /** Runs `work` in one transaction, with this store and the memory store bound to it. */
  transaction<T>(work: (promotions: PromotionStore, memories: MemoryStore) => Promise<T>): Promise<T>;
  /**
   * Serialises promotion writers of one org until the transaction ends (a row lock), so two
   * runs (two instances' schedulers, or a request and the scheduler) never promote one
   * cluster twice.
   */
  lockOrg(orgId: string): Promise<void>;

  /** Ids of the actors of an org that have current memories. */
  actorsWithMemories(orgId: string): Promise<string[]>;
  /** Orgs with current actor memories. */
  orgsWithActorMemories(): Promise<string[]>;
  /**
   * Orgs with current actor memories whose interval (their own, else `defaultIntervalSeconds`)
   * is above 0, with how long ago their latest promotion run (scheduled or requested, not a dry
   * run) finished: what a scheduled round decides on, measured on the database's clock.
   */
  scheduledOrgs(defaultIntervalSeconds: number): Promise<ScheduledOrg[]>;
  /** The smallest per-org interval above 0 (any org); null when no org has one. */
  smallestOrgInterval(): Promise<number | null>;
  /**
   * Current, unexpired, non-document memories of the given scopes with a vector of `embeddingModel`,
   * the newest `limit`, returned oldest first (by creation, then id: a stable order).
   */
  candidates(
    orgId: string,
    scopes: readonly Scope[],
    embeddingModel: string,
    limit: number,
  ): Promise<PromotionCandidate[]>;
  /** These memories (current, unexpired, non-document, with a vector), by id. */
  getCandidates(ids: readonly string[]): Promise<PromotionCandidate[]>;
  /** Current memories at `scope` promoted (or merged) from any of `sourceIds`, most sources shared first. */
  promotedFrom(orgId: string, scope: Scope, sourceIds: readonly string[]): Promise<PromotionCandidate[]>;
  /** Adds provenance to a promoted memory and replaces its promotion metadata. */
  updatePromoted(id: string, update: PromotedMemoryUpdate): Promise<void>;

  getSettings(orgId: string): Promise<StoredPromotionSettings | null>;
  /** Sets the given fields (null: back to the default), leaving absent ones as they are. */
  saveSettings(
    orgId: string,
    patch: Partial<Omit<StoredPromotionSettings, 'orgId' | 'updatedAt'>>,
  ): Promise<StoredPromotionSettings>;

  insertRun(run: Omit<PromotionRun, 'createdAt' | 'proposals'>): Promise<void>;
  saveProposals(jobId: string, proposals: readonly unknown[]): Promise<void>;
  getRun(jobId: string): Promise<PromotionRun | null>;
  updateJob(jobId: string, update: JobUpdate): Promise<void>;
  /** Marks promotion jobs unchanged for `olderThanSeconds` and unfinished as FAILED (their process died). */
  failStaleJobs(olderThanSeconds: number): Promise<number>;
}

/** The levels promotion reads from and writes to. */
export type PromotionLevel = Extract<ScopeLevel, 'ROLE' | 'TEAM' | 'ORG'>;
