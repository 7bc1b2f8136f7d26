import type { MemoryStore, NewMemory } from '../storage/memory-store';

/** Thresholds of the organize stage, on cosine similarity of same-model vectors. */
export interface OrganizeThresholds {
  /** At or above: the same memory said again; provenance is merged, nothing new is stored. @default 0.93 */
  duplicate: number;
  /** At or above (and below `duplicate`): the same subject; replaced when the statements contradict. @default 0.72 */
  sameSubject: number;
}

export const DEFAULT_THRESHOLDS: OrganizeThresholds = { duplicate: 0.93, sameSubject: 0.72 };

export type OrganizeOutcome =
  | { action: 'inserted'; id: string }
  | { action: 'duplicate'; id: string }
  | { action: 'superseded'; id: string; replaced: string };

/**
 * The organize stage (seed 004 stage 2.5): exact and near-duplicate dedup, and supersession.
 * Storage is append-only: a contradicted memory is closed (`validTo`, `supersededBy`), never
 * deleted, and provenance is never dropped.
 */
export class Organizer {
  constructor(private readonly thresholds: OrganizeThresholds = DEFAULT_THRESHOLDS) {}

  /** Stores one (non-document) memory inside the caller's transaction. */
  async organize(store: MemoryStore, memory: NewMemory, now: Date): Promise<OrganizeOutcome> {
    if (memory.embedding && memory.embeddingModel) {
      const [nearest] = await store.findSimilar(
        memory.orgId,
        memory.scope,
        memory.embeddingModel,
        memory.embedding,
        1,
      );
      // Statements differing only in a number or a negation embed almost identically
      // ("… is 30 days" / "… is 45 days"): at duplicate similarity they are still an update.
      const duplicate =
        nearest &&
        nearest.similarity >= this.thresholds.duplicate &&
        !disagreesOnValue(memory.content, nearest.content);
      if (nearest && duplicate) {
        await store.addEventProvenance(nearest.id, memory.provenance.eventIds);
        return { action: 'duplicate', id: nearest.id };
      }
      if (
        nearest &&
        nearest.similarity >= this.thresholds.sameSubject &&
        contradicts(memory.content, nearest.content)
      ) {
        const { id } = await store.insertMemory(memory);
        await store.closeMemory(nearest.id, id, now);
        return { action: 'superseded', id, replaced: nearest.id };
      }
    }
    const { id, inserted } = await store.insertMemory(memory);
    return inserted ? { action: 'inserted', id } : { action: 'duplicate', id };
  }
}

const NEGATION =
  /\b(not|no|never|none|cannot|can't|don't|doesn't|didn't|won't|isn't|aren't|wasn't|no longer|stopped)\b|n't\b/i;
const NUMBER = /\d+(?:[.,]\d+)?/g;
const STOP_WORDS = new Set(
  'a an the is are was were be been to of in on for with at by and or but it this that i my we our you your they their he she his her its as from now'.split(
    ' ',
  ),
);

/**
 * Whether two statements about the same subject disagree: different numbers ("30 days" vs
 * "45 days"), a negation on one side only, or the same framing with different content words
 * ("I prefer Rust for …" vs "I prefer Go for …"). Deliberately conservative: when in doubt
 * both memories stay current.
 */
export function contradicts(a: string, b: string): boolean {
  if (disagreesOnValue(a, b)) return true;
  const wordsA = contentWords(a);
  const wordsB = contentWords(b);
  const shared = [...wordsA].filter((word) => wordsB.has(word)).length;
  const smaller = Math.min(wordsA.size, wordsB.size);
  // Mostly the same words, but not the same statement: an updated value of the same thing.
  return smaller >= 2 && shared / smaller >= 0.5 && shared < Math.max(wordsA.size, wordsB.size);
}

/** Different numbers ("30 days" vs "45 days") or a negation on one side only. */
export function disagreesOnValue(a: string, b: string): boolean {
  return differentNumbers(a, b) || NEGATION.test(a) !== NEGATION.test(b);
}

/** Both statements state numbers, and not the same ones ("30 days" vs "45 days"). */
export function differentNumbers(a: string, b: string): boolean {
  const numbersA = a.match(NUMBER) ?? [];
  const numbersB = b.match(NUMBER) ?? [];
  return numbersA.length > 0 && numbersB.length > 0 && numbersA.join(' ') !== numbersB.join(' ');
}

/** The lower-cased words of a statement that carry content (stop words left out). */
export function contentWords(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .split(/[^\p{L}\p{N}']+/u)
      .filter((word) => word.length > 1 && !STOP_WORDS.has(word)),
  );
}
