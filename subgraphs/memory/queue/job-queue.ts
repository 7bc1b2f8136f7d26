/** What one queued work item asks for: one event, or one version of one document. */
export type WorkPayload =
  { type: 'event'; eventId: string } | { type: 'document'; documentId: string; version: number };

/** Queue priority: realtime work is always claimed before bootstrap work. */
export const PRIORITY = { REALTIME: 0, BOOTSTRAP: 1 } as const;

export interface WorkItem {
  itemId: string;
  jobId: string;
  orgId: string;
  priority: number;
  payload: WorkPayload;
  /** How many times it has been claimed, this time included. */
  attempts: number;
}

export type ItemOutcome =
  { itemId: string; jobId: string; ok: true } | { itemId: string; jobId: string; ok: false; error: string };

/**
 * Port of the durable work queue (the job's items are written with the job, in the same
 * transaction, by the MemoryStore). Claims are leases: an item whose worker died is claimed
 * again once its lease ran out, so accepted work is never lost.
 */
export interface JobQueue {
  /**
   * Claims up to `limit` ready items, realtime before bootstrap, oldest first, and marks
   * their jobs RUNNING. Safe with many workers (FOR UPDATE SKIP LOCKED).
   */
  claim(limit: number, leaseSeconds: number): Promise<WorkItem[]>;
  /** Records the stage the items of these jobs are in (shown live on the job). */
  setStage(jobIds: readonly string[], stage: string): Promise<void>;
  /**
   * Records outcomes: done items count as processed; failed ones are retried until
   * `maxAttempts`, then count as processed with their error on the job. A job whose items
   * are all processed becomes DONE (FAILED when every item failed).
   */
  finish(outcomes: readonly ItemOutcome[], maxAttempts: number): Promise<void>;
}
