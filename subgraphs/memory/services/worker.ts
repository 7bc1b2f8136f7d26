import type { JobQueue } from '../queue/job-queue';
import type { IngestionPipeline } from './pipeline';

export interface WorkerOptions {
  batchSize: number;
  /** Claim loops running at once. @default 1 */
  concurrency?: number;
  pollMs: number;
  leaseSeconds: number;
  log?: (message: string, error?: unknown) => void;
}

/**
 * Claims batches from the durable queue and runs them through the pipeline until stopped.
 * Runs inside the memory subgraph by default; `npm run start:worker` runs it alone. Any
 * number of workers can share one database (claims use SKIP LOCKED and leases).
 */
export class IngestionWorker {
  private running = false;
  private loops: Array<Promise<void>> = [];
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly queue: JobQueue,
    private readonly pipeline: IngestionPipeline,
    private readonly options: WorkerOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops = Array.from({ length: this.options.concurrency ?? 1 }, () => this.run());
  }

  /** Polls at once instead of waiting for the next poll (new work was just queued here). */
  wake(): void {
    for (const wakeUp of this.sleepers) wakeUp();
  }

  /** Finishes the batch in hand, then stops. Unfinished claims are left to their leases. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await Promise.all(this.loops);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let claimed = 0;
      try {
        const items = await this.queue.claim(this.options.batchSize, this.options.leaseSeconds);
        claimed = items.length;
        if (items.length > 0) await this.pipeline.processBatch(items);
      } catch (error) {
        // The database or a model failed for the whole batch: its leases expire and the
        // items are claimed again; back off meanwhile.
        (this.options.log ?? defaultLog)('ingestion batch failed', error);
      }
      if (claimed === 0 && this.running) await this.sleep(this.options.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

function defaultLog(message: string, error?: unknown): void {
  console.error(`[memsy] ${message}:`, error);
}
