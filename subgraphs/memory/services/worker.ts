import type { JobQueue } from '../queue/job-queue';
import type { IngestionPipeline } from './pipeline';

export interface WorkerOptions {
  batchSize: number;
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
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(
    private readonly queue: JobQueue,
    private readonly pipeline: IngestionPipeline,
    private readonly options: WorkerOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Polls at once instead of waiting for the next poll (new work was just queued here). */
  wake(): void {
    this.wakeUp?.();
  }

  /** Finishes the batch in hand, then stops. Unfinished claims are left to their leases. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
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
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

function defaultLog(message: string, error?: unknown): void {
  console.error(`[memsy] ${message}:`, error);
}
