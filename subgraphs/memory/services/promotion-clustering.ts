/**
 * Clustering of near-duplicate memories for promotion: the same statement said in different
 * words by several members of a level.
 *
 * Average linkage at a similarity threshold, run inside the connected components of the
 * "similar at the threshold" graph. Average linkage (two clusters merge when the mean
 * similarity of their members is at or above the threshold) does not chain like single
 * linkage ("Postgres for tests" ~ "Postgres for prod" ~ "MySQL for prod" would become one
 * cluster) and, unlike greedy leader clustering, does not depend on which paraphrase came
 * first. The components keep it cheap: average linkage costs O(m³) in a component of m
 * memories, and components of near-duplicates are small.
 *
 * Measured with the embedded USE-lite encoder: paraphrases of one preference ("I prefer to write
 * integration tests against a real Postgres database." / "I always test against a real Postgres
 * instance rather than mocks." / ...) have pairwise similarities 0.67–0.92 (mean 0.79); rules in
 * one framing ("Code reviews should be done within one business day." / "Code reviews must be
 * finished …") 0.71–0.91, but across framings ("I try to review code within one business day.")
 * only 0.40–0.70: the encoder splits those, and each part needs its own support. Different
 * statements of the same people: 0.07–0.63. Hence the default 0.70. Statements that differ in one
 * value embed almost identically ("We deploy on Thursdays." / "… on Mondays." 0.98, Rust / Go
 * 0.85, dark / light mode 0.87): no threshold separates them, {@link splitByValue} does.
 */

import { contentWords, differentNumbers } from './organizer';

export interface Embedded {
  embedding: Float32Array;
}

/** Cosine similarity of two L2-normalised vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** The normalised mean of vectors (the direction a cluster points in). */
export function centroid(vectors: readonly Float32Array[]): Float32Array {
  const result = new Float32Array(vectors[0]?.length ?? 0);
  for (const vector of vectors) for (let i = 0; i < result.length; i++) result[i]! += vector[i]!;
  const norm = Math.hypot(...result) || 1;
  for (let i = 0; i < result.length; i++) result[i]! /= norm;
  return result;
}

/**
 * Groups `items` into clusters whose members' average pairwise similarity is at least
 * `threshold`. Deterministic for a given input order. Clusters are returned largest first
 * (ties: the one whose first member comes first), members in input order.
 */
export function clusterBySimilarity<T extends Embedded>(items: readonly T[], threshold: number): T[][] {
  const n = items.length;
  const sim = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    sim[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const s = dot(items[i]!.embedding, items[j]!.embedding);
      sim[i * n + j] = s;
      sim[j * n + i] = s;
    }
  }
  // Connected components at the threshold (union-find).
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!;
      i = parent[i]!;
    }
    return i;
  };
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) if (sim[i * n + j]! >= threshold) parent[find(j)] = find(i);
  const components = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    components.set(root, [...(components.get(root) ?? []), i]);
  }

  const clusters: number[][] = [];
  for (const members of components.values()) clusters.push(...averageLinkage(members, sim, n, threshold));
  return clusters
    .map((members) => members.sort((a, b) => a - b))
    .sort((a, b) => b.length - a.length || a[0]! - b[0]!)
    .map((members) => members.map((i) => items[i]!));
}

/** Agglomerative average linkage inside one component (Lance–Williams update). */
function averageLinkage(members: number[], sim: Float64Array, n: number, threshold: number): number[][] {
  if (members.length === 1) return [members];
  let clusters = members.map((i) => [i]);
  // Average similarity between clusters a and b, kept in a matrix indexed by cluster position.
  let link = clusters.map((a) => clusters.map((b) => sim[a[0]! * n + b[0]!]!));
  for (;;) {
    let best = -Infinity;
    let pair: [number, number] | null = null;
    for (let a = 0; a < clusters.length; a++)
      for (let b = a + 1; b < clusters.length; b++)
        if (link[a]![b]! > best) {
          best = link[a]![b]!;
          pair = [a, b];
        }
    if (!pair || best < threshold) return clusters;
    const [a, b] = pair;
    const sizeA = clusters[a]!.length;
    const sizeB = clusters[b]!.length;
    const merged = [...clusters[a]!, ...clusters[b]!];
    const mergedLinks = clusters.map(
      (_, c) => (sizeA * link[a]![c]! + sizeB * link[b]![c]!) / (sizeA + sizeB),
    );
    const keep = clusters.map((_, c) => c).filter((c) => c !== a && c !== b);
    clusters = [...keep.map((c) => clusters[c]!), merged];
    link = [
      ...keep.map((c) => [...keep.map((d) => link[c]![d]!), mergedLinks[c]!]),
      [...keep.map((c) => mergedLinks[c]!), 1],
    ];
  }
}

/** Words that name a value: proper nouns (capitalised, not sentence-initial) and numbers. */
function valueWords(text: string): Set<string> {
  const words = text.split(/[^\p{L}\p{N}']+/u).filter(Boolean);
  return new Set(
    words
      .filter((word, i) => /\d/.test(word) || (i > 0 && /^\p{Lu}/u.test(word)))
      .map((word) => word.toLowerCase()),
  );
}

/**
 * Whether two statements say different values of the same thing: different numbers ("30 days"
 * / "45 days"), or the same words but for one swapped name ("We deploy on Thursdays" /
 * "… Mondays", "I prefer Rust …" / "I prefer Go …"). Only names and numbers count as values:
 * a swapped common word is usually a synonym ("done" / "finished"). Not caught: swapped common
 * words that are values ("dark" / "light mode"); an LLM judge sees those.
 */
export function differentValue(a: string, b: string): boolean {
  if (differentNumbers(a, b)) return true;
  const wordsA = contentWords(a);
  const wordsB = contentWords(b);
  const onlyA = [...wordsA].filter((word) => !wordsB.has(word));
  const onlyB = [...wordsB].filter((word) => !wordsA.has(word));
  if (onlyA.length !== 1 || onlyB.length !== 1 || wordsA.size < 2) return false;
  return valueWords(a).has(onlyA[0]!) && valueWords(b).has(onlyB[0]!);
}

/**
 * Splits a cluster (ordered most central first) into groups that agree on the value: the most
 * central statement takes every member that does not state a different value, and the rest
 * are split again the same way.
 */
export function splitByValue<T>(members: readonly T[], text: (member: T) => string): T[][] {
  const groups: T[][] = [];
  let rest = [...members];
  while (rest.length > 0) {
    const head = text(rest[0]!);
    const group = rest.filter((member) => !differentValue(head, text(member)));
    groups.push(group);
    rest = rest.filter((member) => !group.includes(member));
  }
  return groups;
}
