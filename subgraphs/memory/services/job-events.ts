import { EventEmitter } from 'node:events';

/**
 * In-process signal that jobs changed, so `jobProgress` subscribers on this instance hear
 * about progress at once. Subscribers also poll the database, which is what makes progress
 * of work done by another instance (or a separate worker process) visible.
 */
export class JobEvents {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  changed(jobIds: readonly string[]): void {
    for (const jobId of jobIds) this.emitter.emit(jobId);
  }

  /** Resolves when `jobId` changes or after `timeoutMs`, whichever comes first. */
  next(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.emitter.off(jobId, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.emitter.once(jobId, done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
