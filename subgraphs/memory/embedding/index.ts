import { ConfigError } from '../../../common/config';
import type { Embedder } from './embedder';
import { LocalSentenceEmbedder, type LocalSentenceEmbedderOptions } from './local-sentence-embedder';
import { OpenAiEmbedder, type OpenAiEmbedderOptions } from './openai-embedder';

export type { Embedder } from './embedder';
export { LocalSentenceEmbedder, type LocalSentenceEmbedderOptions } from './local-sentence-embedder';
export { OpenAiEmbedder, type OpenAiEmbedderConfig, type OpenAiEmbedderOptions } from './openai-embedder';

/**
 * Which embedder the memory subgraph uses (environment: EMBEDDINGS_BASE_URL,
 * EMBEDDINGS_API_KEY, EMBEDDINGS_MODEL, EMBEDDINGS_DIMENSIONS). Without `baseUrl` the local
 * USE-lite model (512-d, offline) is used and the other fields are ignored.
 */
export interface EmbeddingsConfig {
  /** OpenAI-compatible base URL (e.g. `https://api.openai.com/v1`); unset: the local model. */
  baseUrl?: string;
  apiKey?: string;
  /** Model name; required with `baseUrl`. */
  model?: string;
  /** Length of the vectors the model returns; required with `baseUrl`. */
  dimensions?: number;
  /** Per-request timeout of the remote endpoint. */
  timeoutMs: number;
  /** Retries on timeout, 429 and 5xx of the remote endpoint. */
  maxRetries: number;
}

export interface CreateEmbedderOptions {
  /** Options of the local embedder (cache size, maximum text length, batch size). */
  local?: LocalSentenceEmbedderOptions;
  /** Options of the remote embedder (backoff). */
  openAi?: OpenAiEmbedderOptions;
}

/**
 * {@link OpenAiEmbedder} when an embeddings URL is configured, else
 * {@link LocalSentenceEmbedder}, resolved once its model is loaded (~1 s). Throws ConfigError
 * when a URL is set without a model or dimensions.
 */
export async function createEmbedder(
  config: EmbeddingsConfig,
  options: CreateEmbedderOptions = {},
): Promise<Embedder> {
  if (config.baseUrl) {
    const missing = [
      !config.model ? 'EMBEDDINGS_MODEL: required when EMBEDDINGS_BASE_URL is set' : undefined,
      config.dimensions === undefined || !Number.isInteger(config.dimensions) || config.dimensions <= 0
        ? 'EMBEDDINGS_DIMENSIONS: a positive integer is required when EMBEDDINGS_BASE_URL is set'
        : undefined,
    ].filter((line): line is string => line !== undefined);
    if (missing.length > 0) {
      throw new ConfigError(`Invalid configuration:\n${missing.map((line) => `  ${line}`).join('\n')}`);
    }
    return new OpenAiEmbedder(
      {
        baseUrl: config.baseUrl,
        apiKey: config.apiKey,
        model: config.model!,
        dimensions: config.dimensions!,
        timeoutMs: config.timeoutMs,
        maxRetries: config.maxRetries,
      },
      options.openAi,
    );
  }
  return LocalSentenceEmbedder.create(options.local);
}
