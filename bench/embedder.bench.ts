/**
 * Throughput of the local sentence embedder (USE-lite in a worker thread).
 *
 * Run: node -r ./scripts/register.js bench/embedder.bench.ts
 *
 * Prints the time `LocalSentenceEmbedder.create()` takes (thread start + model load), then
 * texts/second for short chat turns (~15 words) and document chunks (~150 words), one text per
 * call (batch 1) and 32 texts per call (batch 32), each the median of 3 runs. Every run embeds
 * fresh texts and the cache is off, so every text reaches the model.
 */
import os from 'node:os';
import { LocalSentenceEmbedder } from '../subgraphs/memory/embedding/local-sentence-embedder';

const COMMAND = 'node -r ./scripts/register.js bench/embedder.bench.ts';
const RUNS = 3;

const WORDS = (
  'the a my our their user agent team project meeting budget review deadline plan travel flight ' +
  'hotel doctor appointment birthday gift sister brother manager customer refund order invoice ' +
  'release database migration service deploy bug report coffee morning evening weekend monday ' +
  'friday paris berlin tokyo likes prefers needs wants booked moved cancelled confirmed asked ' +
  'remembered forgot said wrote about with for after before during because and but so then ' +
  'quickly usually never always again soon later new old small large important urgent'
).split(' ');

/** Deterministic pseudo-random texts (a linear congruential generator), different per seed. */
function makeTexts(count: number, words: number, seed: number): string[] {
  let state = seed;
  const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
  return Array.from({ length: count }, (_, i) => {
    const picked = Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]!);
    return `${i} ${picked.join(' ')}.`;
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function textsPerSecond(
  embedder: LocalSentenceEmbedder,
  texts: string[],
  batch: number,
): Promise<number> {
  const started = performance.now();
  for (let start = 0; start < texts.length; start += batch) {
    await embedder.embed(texts.slice(start, start + batch));
  }
  return texts.length / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  console.log(`$ ${COMMAND}`);
  console.log(`node ${process.version}, ${os.cpus().length} CPU(s): ${os.cpus()[0]?.model ?? 'unknown'}\n`);

  const loadStarted = performance.now();
  const embedder = await LocalSentenceEmbedder.create({ cacheSize: 0 });
  const createMs = performance.now() - loadStarted;
  console.log(
    `create(): ${createMs.toFixed(0)} ms (model load inside the worker: ${embedder.stats().lastLoadMs?.toFixed(0)} ms)\n`,
  );

  try {
    await embedder.embed(['warm up the model once']);
    const cases = [
      { name: 'chat turns (~15 words)', words: 15, counts: { 1: 64, 32: 128 } },
      { name: 'document chunks (~150 words)', words: 150, counts: { 1: 16, 32: 32 } },
    ] as const;
    let seed = 1;
    console.log('texts/second, median of 3 runs (min-max):');
    for (const { name, words, counts } of cases) {
      for (const batch of [1, 32] as const) {
        const rates: number[] = [];
        for (let run = 0; run < RUNS; run++) {
          rates.push(await textsPerSecond(embedder, makeTexts(counts[batch], words, seed++), batch));
        }
        console.log(
          `  ${name.padEnd(30)} batch ${String(batch).padStart(2)}: ${median(rates).toFixed(1).padStart(6)} ` +
            `(${Math.min(...rates).toFixed(1)}-${Math.max(...rates).toFixed(1)}; ${counts[batch]} texts per run)`,
        );
      }
    }
  } finally {
    await embedder.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
