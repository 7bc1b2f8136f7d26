import type { PGlite } from '@electric-sql/pglite';

/**
 * Query queue for the embedded Postgres socket server that hands PGlite to one connection
 * for a whole protocol *turn* (from the first message up to Sync / simple Query) and for a
 * whole open transaction.
 *
 * Why: PGlite is a single Postgres session. pglite-socket's own queue interleaves messages of
 * different connections one by one, so connection B's Parse can replace connection A's
 * unnamed statement between A's Parse and A's Bind: rows end up in the wrong table (the bug
 * DESIGN.md section 8 records). Serialising whole turns, and whole transactions, makes
 * several connections (several processes, e.g. two memory-subgraph instances) safe.
 *
 * It implements the duck-typed queue interface `PGLiteSocketHandler` calls.
 */
export class TurnSerialisingQueue {
  private readonly queue: QueuedMessage[] = [];
  private processing = false;
  /** The connection that last ran a message; it keeps PGlite while mid-turn or in a transaction. */
  private owner: number | null = null;
  private ownerMidTurn = false;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ handlerId, message, onData, resolve, reject });
      void this.processQueue();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  clearQueueForHandler(handlerId: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const queued = this.queue[i]!;
      if (queued.handlerId === handlerId) {
        this.queue.splice(i, 1);
        queued.reject(new Error('connection closed'));
      }
    }
    if (this.owner === handlerId) this.ownerMidTurn = false;
    void this.processQueue();
  }

  async clearTransactionIfNeeded(handlerId: number): Promise<void> {
    if (this.owner === handlerId) {
      // exec() takes PGlite's query mutex itself: wrapping it in runExclusive() (the same,
      // non-reentrant mutex) would deadlock and stall every connection.
      if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
      this.owner = null;
      this.ownerMidTurn = false;
    }
    await this.processQueue();
  }

  private next(): QueuedMessage | undefined {
    const ownerHoldsDb = this.owner !== null && (this.ownerMidTurn || this.db.isInTransaction());
    if (!ownerHoldsDb) return this.queue.shift();
    const index = this.queue.findIndex((queued) => queued.handlerId === this.owner);
    // The owner has not sent its next message yet: everyone else waits for it.
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      for (let queued = this.next(); queued; queued = this.next()) {
        const current = queued;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(current.message, {
              onRawData: (data: Uint8Array) => {
                bytes += data.length;
                current.onData(data);
              },
            }),
          );
          this.owner = current.handlerId;
          this.ownerMidTurn = !endsTurn(current.message);
          current.resolve(bytes);
        } catch (error) {
          this.owner = current.handlerId;
          this.ownerMidTurn = false;
          current.reject(error as Error);
        }
      }
    } finally {
      this.processing = false;
    }
  }
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: Error) => void;
}

const SYNC = 0x53; // 'S'
const SIMPLE_QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'
const PASSWORD = 0x70; // 'p'

/** True when the message closes a protocol turn (or is a startup message, which has no type byte). */
function endsTurn(message: Uint8Array): boolean {
  const type = message[0];
  return type === SYNC || type === SIMPLE_QUERY || type === TERMINATE || type === PASSWORD || type === 0;
}
