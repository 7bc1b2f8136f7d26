import type { PromotionStore, ScheduledOrg } from '../storage/promotion-store';
import type { PromotionService } from './promotion-service';

export interface PromotionSchedulerOptions {
  /**
   * PROMOTION_INTERVAL_SECONDS: the interval of every org without one of its own; 0 (the
   * default, and in tests) = only orgs with their own positive interval are promoted.
   */
  intervalSeconds: number;
  /** The shortest sleep between two rounds (default 5 s): a 1 s org interval means every ~5 s. */
  minTickSeconds?: number;
  log?: (message: string, error?: unknown) => void;
}

/** Shortest sleep between rounds unless told otherwise. */
export const MIN_TICK_SECONDS = 5;
/** Longest sleep (Node timers overflow past ~24.8 days); it just plans again. */
const MAX_TICK_SECONDS = 86_400;
/** Wakes a little after an org falls due, so it is due when the round looks. */
const SLACK_SECONDS = 0.05;

/**
 * Runs promotion (not a dry run) automatically, per org. An org's interval is its own
 * `intervalSeconds` (`updatePromotionSettings`), else PROMOTION_INTERVAL_SECONDS; 0 = never.
 * An org is due when it has actor memories, its interval is above 0, no real run of it is
 * unfinished, and its latest real run (scheduled or requested; dry runs write nothing and do
 * not count) finished at least that interval ago, or it never had one. A round promotes the
 * due orgs one after the other; each run is an ordinary promotion job (`jobs`, `jobProgress`).
 *
 * The timer: after a round (and at start, and when this process changes an org's settings)
 * the scheduler sleeps until the next org falls due, but never longer than the smallest
 * interval in force (so an org that just got actor memories waits at most that long) and never
 * shorter than `minTickSeconds` (5 s: a round reads the database, it must not spin). With
 * no interval above 0 anywhere (the default, and in tests) it sets no timer at all.
 *
 * Several instances may run it: writes take the org's promotion lock and re-running is
 * idempotent; an instance only re-plans on settings changes it served itself, so an org's
 * first positive interval is picked up by the instance that stored it (and by all at restart).
 * `close()` stops the timer, interrupts the run in hand and waits for it.
 */
export class PromotionScheduler {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private planning: Promise<void> = Promise.resolve();
  private started = false;
  private stopped = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly service: PromotionService,
    private readonly promotions: PromotionStore,
    private readonly options: PromotionSchedulerOptions,
  ) {
    this.unsubscribe = service.onSettingsChanged(() => void this.refresh());
  }

  /** Whether a round is planned or in hand. */
  get active(): boolean {
    return this.timer !== undefined || this.round !== undefined;
  }

  /** Plans the first round (no timer when nothing has an interval). */
  start(): void {
    if (this.stopped || this.started) return;
    this.started = true;
    void this.refresh();
  }

  /**
   * Plans the next round again from the settings and runs (after a settings change); resolves
   * when the timer is set (or cleared). Nothing before `start()`; a round in hand plans itself.
   */
  refresh(): Promise<void> {
    this.planning = this.planning
      .then(() => this.plan())
      .catch((error: unknown) => this.log('planning scheduled promotion failed', error));
    return this.planning;
  }

  /**
   * One round now (also what the timer calls): promotes the orgs that are due; resolves when
   * each was visited. `due`: their ids; `failed`: how many of their runs failed.
   */
  async runOnce(): Promise<{ due: string[]; failed: number }> {
    let failed = 0;
    await this.service.failStaleJobs();
    const due = (await this.promotions.scheduledOrgs(this.options.intervalSeconds))
      .filter(isDue)
      .map((org) => org.orgId);
    for (const orgId of due) {
      if (this.stopped) break;
      try {
        await this.service.run(orgId, false);
      } catch (error) {
        failed += 1;
        this.log(`scheduled promotion of org ${orgId} failed`, error);
      }
    }
    return { due, failed };
  }

  /**
   * Seconds until the next round should start; null: never (no interval above 0). The soonest
   * an org falls due, at most the smallest interval, at least `minTickSeconds`.
   */
  async nextRoundInSeconds(): Promise<number | null> {
    const global = this.options.intervalSeconds;
    const own = await this.promotions.smallestOrgInterval();
    const smallest = Math.min(global > 0 ? global : Infinity, own ?? Infinity);
    if (smallest === Infinity) return null;
    let soonest = smallest;
    for (const org of await this.promotions.scheduledOrgs(global)) {
      if (org.running) continue;
      const remaining = org.secondsSinceLastRun === null ? 0 : org.intervalSeconds - org.secondsSinceLastRun;
      soonest = Math.min(soonest, Math.max(0, remaining) + SLACK_SECONDS);
    }
    return Math.min(MAX_TICK_SECONDS, Math.max(this.options.minTickSeconds ?? MIN_TICK_SECONDS, soonest));
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    this.clearTimer();
    await this.planning;
    await this.round;
  }

  private async plan(): Promise<void> {
    if (!this.started || this.stopped || this.round) return;
    const seconds = await this.nextRoundInSeconds();
    // A round may have started, or close() come, while the database answered.
    if (this.stopped || this.round) return;
    this.clearTimer();
    if (seconds === null) return;
    this.timer = setTimeout(() => this.tick(), seconds * 1000);
    // The timer alone never keeps the process alive; close() is the clean stop.
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    this.round = this.runOnce()
      .then(() => undefined)
      .catch((error: unknown) => this.log('scheduled promotion round failed', error))
      .finally(() => {
        this.round = undefined;
        if (!this.stopped) void this.refresh();
      });
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private log(message: string, error?: unknown): void {
    (this.options.log ?? ((m, e) => console.error(`[memsy] ${m}:`, e)))(message, error);
  }
}

/** Has an interval (always, from the store), nothing unfinished, and its interval has passed. */
function isDue(org: ScheduledOrg): boolean {
  if (org.running) return false;
  return org.secondsSinceLastRun === null || org.secondsSinceLastRun >= org.intervalSeconds;
}
