import type { PromotionStore } from '../storage/promotion-store';
import type { PromotionService } from './promotion-service';

export interface PromotionSchedulerOptions {
  /** Seconds between the end of one round and the start of the next; 0 disables the scheduler. */
  intervalSeconds: number;
  log?: (message: string, error?: unknown) => void;
}

/**
 * Runs promotion (not a dry run) for every org with actor memories, one org after the other,
 * every `intervalSeconds` (PROMOTION_INTERVAL_SECONDS; 0 = off, the default, and off in tests).
 * Each run is an ordinary promotion job, visible in `jobs` and on `jobProgress`. Several
 * instances may run it at once: writes take the org's promotion lock and re-running is
 * idempotent. `close()` stops the timer, interrupts the run in hand and waits for it.
 */
export class PromotionScheduler {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly service: PromotionService,
    private readonly promotions: PromotionStore,
    private readonly options: PromotionSchedulerOptions,
  ) {}

  get enabled(): boolean {
    return this.options.intervalSeconds > 0;
  }

  start(): void {
    if (!this.enabled || this.stopped || this.timer) return;
    this.schedule();
  }

  /** One round now (also what the timer calls); resolves when every org was visited. */
  async runOnce(): Promise<{ orgs: number; failed: number }> {
    let failed = 0;
    await this.service.failStaleJobs();
    const orgs = await this.promotions.orgsWithActorMemories();
    for (const orgId of orgs) {
      if (this.stopped) break;
      try {
        await this.service.run(orgId, false);
      } catch (error) {
        failed += 1;
        this.log(`scheduled promotion of org ${orgId} failed`, error);
      }
    }
    return { orgs: orgs.length, failed };
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.round = this.runOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.log('scheduled promotion round failed', error))
        .finally(() => {
          this.round = undefined;
          if (!this.stopped) this.schedule();
        });
    }, this.options.intervalSeconds * 1000);
    // The timer alone never keeps the process alive; close() is the clean stop.
    this.timer.unref();
  }

  private log(message: string, error?: unknown): void {
    (this.options.log ?? ((m, e) => console.error(`[memsy] ${m}:`, e)))(message, error);
  }
}
