/**
 * Port to a sentence-embedding model. Vectors of different models are never compared: every
 * stored vector records `modelId`, and searches filter on it.
 */
export interface Embedder {
  /** Stable id of model + weights, stored with every vector, e.g. `use-lite-512`. */
  readonly modelId: string;
  /** Length of every vector this embedder returns. */
  readonly dimensions: number;
  /**
   * Embeds texts in one batch (adapters split large batches themselves). Returns one
   * L2-normalised vector per input, in input order. Throws UpstreamError for a failing remote.
   */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  /** Releases worker threads or models. */
  close(): Promise<void>;
}
