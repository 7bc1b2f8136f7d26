import { UpstreamError } from '../../../common/errors';
import { isRecord, postOpenAiJson, snippet } from '../../../common/llm/openai-http';
import type { Embedder } from './embedder';

export interface OpenAiEmbedderConfig {
  /** OpenAI-compatible base URL, e.g. `https://api.openai.com/v1` or `http://localhost:11434/v1`. */
  baseUrl: string;
  apiKey?: string;
  /** Model name sent in every request, e.g. `text-embedding-3-small`. */
  model: string;
  /**
   * Length of the vectors the model returns (1536 for `text-embedding-3-small`). Checked on
   * every answer; it is not sent to the endpoint.
   */
  dimensions: number;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Retries on timeout, network errors, 429 and 5xx, with exponential backoff. */
  maxRetries: number;
  /** Most texts sent in one request; larger inputs are split into several. @default 96 */
  batchSize?: number;
}

export interface OpenAiEmbedderOptions {
  /** First backoff delay between attempts; doubles on each retry. @default 250 */
  retryBaseDelayMs?: number;
}

/**
 * {@link Embedder} for any OpenAI-compatible `POST {baseUrl}/embeddings` endpoint (OpenAI,
 * Ollama, vLLM, LM Studio, text-embeddings-inference, ...), built on Node's global `fetch`.
 *
 * - Inputs are sent as-is in requests of at most `batchSize` texts, one request at a time and
 *   in input order; `embed([])` sends nothing.
 * - Errors follow the chat client's policy ({@link postOpenAiJson}): timeouts, network errors,
 *   429 and 5xx are retried `maxRetries` times, then throw `RateLimitedError` (429) or
 *   `UpstreamError`; other 4xx fail at once with `UpstreamError`. Messages never contain the key.
 * - Answers are checked: a body that is not the embeddings `list` shape, a wrong number of
 *   vectors, missing or duplicate `index`es, a vector whose length is not `dimensions`, a
 *   non-finite or all-zero vector: each is an `UpstreamError` (not retried).
 * - Vectors are put back in input order by their `index` and L2-normalised (OpenAI's already
 *   are; other servers' may not be).
 *
 * Owns no resources: `close()` does nothing (see OpenAiChatClient on `fetch`'s sockets).
 */
export class OpenAiEmbedder implements Embedder {
  readonly modelId: string;
  readonly dimensions: number;
  private readonly endpoint: string;
  private readonly batchSize: number;
  private readonly retryBaseDelayMs: number;

  constructor(
    private readonly config: OpenAiEmbedderConfig,
    options: OpenAiEmbedderOptions = {},
  ) {
    if (!Number.isInteger(config.dimensions) || config.dimensions <= 0) {
      throw new RangeError(`OpenAiEmbedder: dimensions must be a positive integer, got ${config.dimensions}`);
    }
    const batchSize = config.batchSize ?? 96;
    if (!Number.isInteger(batchSize) || batchSize <= 0) {
      throw new RangeError(`OpenAiEmbedder: batchSize must be a positive integer, got ${batchSize}`);
    }
    this.modelId = `openai:${config.model}`;
    this.dimensions = config.dimensions;
    this.batchSize = batchSize;
    this.endpoint = `${config.baseUrl.replace(/\/+$/, '')}/embeddings`;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
  }

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      vectors.push(...(await this.embedBatch(texts.slice(start, start + this.batchSize))));
    }
    return vectors;
  }

  async close(): Promise<void> {}

  private embedBatch(texts: readonly string[]): Promise<Float32Array[]> {
    return postOpenAiJson(
      {
        endpoint: this.endpoint,
        apiKey: this.config.apiKey,
        body: JSON.stringify({ model: this.config.model, input: texts, encoding_format: 'float' }),
        timeoutMs: this.config.timeoutMs,
        maxRetries: this.config.maxRetries,
        retryBaseDelayMs: this.retryBaseDelayMs,
        label: 'Embeddings',
      },
      (text) => this.parse(text, texts.length),
    );
  }

  private parse(text: string, expected: number): Float32Array[] {
    const malformed = (why: string) =>
      new UpstreamError(`Embeddings endpoint returned malformed JSON (${why}): ${snippet(text)}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw malformed('not JSON');
    }
    if (!isRecord(json) || !Array.isArray(json.data)) throw malformed('no data array');
    const data: unknown[] = json.data;
    if (data.length !== expected) {
      throw new UpstreamError(
        `Embeddings endpoint returned ${data.length} vector(s) for ${expected} input(s)`,
      );
    }
    const vectors = new Array<Float32Array | undefined>(expected);
    for (const item of data) {
      if (!isRecord(item) || !Array.isArray(item.embedding)) {
        throw malformed('an item has no embedding array (was encoding_format ignored?)');
      }
      const index = item.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= expected) {
        throw malformed(`an item has no valid index (got ${JSON.stringify(index)})`);
      }
      if (vectors[index]) throw malformed(`index ${index} appears twice`);
      vectors[index] = this.toUnitVector(item.embedding, index);
    }
    return vectors as Float32Array[];
  }

  private toUnitVector(values: unknown[], index: number): Float32Array {
    if (values.length !== this.dimensions) {
      throw new UpstreamError(
        `Embeddings endpoint returned a ${values.length}-dimension vector for model ${this.config.model}; ` +
          `${this.dimensions} are configured (set the dimensions to what the model returns)`,
      );
    }
    let sumOfSquares = 0;
    for (const value of values) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new UpstreamError(`Embeddings endpoint returned a non-numeric value in vector ${index}`);
      }
      sumOfSquares += value * value;
    }
    const norm = Math.sqrt(sumOfSquares);
    if (norm === 0) throw new UpstreamError(`Embeddings endpoint returned an all-zero vector ${index}`);
    const vector = new Float32Array(values.length);
    for (let i = 0; i < values.length; i++) vector[i] = (values[i] as number) / norm;
    return vector;
  }
}
