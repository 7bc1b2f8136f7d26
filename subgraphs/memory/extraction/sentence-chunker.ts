import { splitSentences, type Sentence } from './sentence-splitter';
import type { Chunk, Chunker } from './types';

export interface SentenceChunkerOptions {
  /** Upper bound on a chunk's length in characters (UTF-16 code units). @default 1200 */
  maxChars?: number;
  /** Sentences each chunk repeats from the end of the previous one. @default 1 */
  overlapSentences?: number;
  /**
   * A heading starts a new chunk only once the current chunk is this long (shorter sections are
   * merged with the next), and a last chunk shorter than this is rebalanced with the one before
   * it (sentences move from the end of that chunk into the last one) within `maxChars`.
   * @default min(200, maxChars / 4)
   */
  minChars?: number;
}

/** A chunk with the indexes of the sentences it holds (wholly or, for a split sentence, in part). */
export interface SentenceChunk extends Chunk {
  sentenceIndexes: number[];
}

/** A sentence, or a word-boundary slice of one longer than `maxChars`. */
interface Piece {
  text: string;
  sentence: number;
  /** A heading: no overlap is carried into a chunk that starts with it. */
  heading: boolean;
  /** A heading or an introducing line (`…:`): not left at the end of a chunk when it can move on. */
  sticky: boolean;
}

interface Draft {
  pieces: number[];
  /** How many leading pieces repeat the previous chunk. */
  overlap: number;
}

/**
 * {@link Chunker} along sentence boundaries ({@link splitSentences}), deterministic:
 *
 * - every chunk is at most `maxChars` long; a sentence longer than that is split at word
 *   boundaries (a single word longer than that, at `maxChars`);
 * - consecutive chunks share `overlapSentences` sentences (fewer when they would not fit), except
 *   that a chunk starting with a heading repeats nothing from the previous section;
 * - a heading or a line ending with `:` is moved to the next chunk rather than ending one, so it
 *   stays with the text it introduces; a heading also starts a new chunk once the current one has
 *   `minChars` characters, so chunks follow the document's sections (short sections are merged);
 * - whitespace is normalised (one space between words and sentences); list and heading markers
 *   are kept; chunks are indexed 0..n-1 and every sentence appears in at least one chunk.
 */
export class SentenceChunker implements Chunker {
  readonly maxChars: number;
  readonly overlapSentences: number;
  readonly minChars: number;

  constructor(options: SentenceChunkerOptions = {}) {
    this.maxChars = options.maxChars ?? 1200;
    this.overlapSentences = options.overlapSentences ?? 1;
    this.minChars = options.minChars ?? Math.min(200, Math.floor(this.maxChars / 4));
    if (!Number.isInteger(this.maxChars) || this.maxChars < 1) {
      throw new RangeError(`maxChars must be a positive integer, got ${this.maxChars}`);
    }
    if (!Number.isInteger(this.overlapSentences) || this.overlapSentences < 0) {
      throw new RangeError(`overlapSentences must be a non-negative integer, got ${this.overlapSentences}`);
    }
    if (!Number.isFinite(this.minChars) || this.minChars < 0 || this.minChars > this.maxChars) {
      throw new RangeError(
        `minChars must be between 0 and maxChars (${this.maxChars}), got ${this.minChars}`,
      );
    }
  }

  chunk(text: string): Chunk[] {
    return this.chunkSentences(splitSentences(text)).map(({ index, content }) => ({ index, content }));
  }

  /** Chunks of already split sentences, saying which sentences each chunk holds. */
  chunkSentences(sentences: readonly Sentence[]): SentenceChunk[] {
    const pieces = this.toPieces(sentences);
    if (pieces.length === 0) return [];
    const drafts = this.pack(pieces);
    this.rebalanceLast(drafts, pieces);
    return drafts.map((draft, index) => ({
      index,
      content: draft.pieces.map((piece) => pieces[piece]!.text).join(' '),
      sentenceIndexes: [...new Set(draft.pieces.map((piece) => pieces[piece]!.sentence))],
    }));
  }

  private toPieces(sentences: readonly Sentence[]): Piece[] {
    const pieces: Piece[] = [];
    sentences.forEach((sentence, index) => {
      const text = sentence.text.replace(/\s+/g, ' ').trim();
      if (text === '') return;
      const heading = sentence.kind === 'heading';
      if (text.length <= this.maxChars) {
        pieces.push({ text, sentence: index, heading, sticky: heading || sentence.introduces });
        return;
      }
      for (const part of splitAtWords(text, this.maxChars)) {
        pieces.push({ text: part, sentence: index, heading: false, sticky: false });
      }
    });
    return pieces;
  }

  /** Length of the pieces joined by single spaces. */
  private length(pieces: readonly Piece[], ids: readonly number[]): number {
    let total = Math.max(0, ids.length - 1);
    for (const id of ids) total += pieces[id]!.text.length;
    return total;
  }

  /** The overlap to repeat before `next`: the last sentences of `previous` that still fit. */
  private overlapFor(
    pieces: readonly Piece[],
    previous: readonly number[],
    next: readonly number[],
  ): number[] {
    if (this.overlapSentences === 0 || next.length === 0 || pieces[next[0]!]!.heading) return [];
    let overlap = previous.slice(-this.overlapSentences);
    // Never repeat the whole previous chunk's content twice over a long run of one-piece chunks.
    while (overlap.length > 0 && this.length(pieces, [...overlap, ...next]) > this.maxChars)
      overlap = overlap.slice(1);
    return overlap;
  }

  /** Greedy: fill each chunk, then start the next with the overlap and any carried heading. */
  private pack(pieces: readonly Piece[]): Draft[] {
    const drafts: Draft[] = [];
    let current: Draft = { pieces: [0], overlap: 0 };
    for (let id = 1; id < pieces.length; id++) {
      // A new section starts a new chunk, unless the current one is still shorter than minChars.
      const sectionBreak =
        pieces[id]!.heading &&
        current.pieces.length > current.overlap &&
        this.length(pieces, current.pieces) >= Math.max(1, this.minChars);
      if (sectionBreak) {
        drafts.push(current);
        current = { pieces: [id], overlap: 0 };
        continue;
      }
      if (this.length(pieces, [...current.pieces, id]) <= this.maxChars) {
        current.pieces.push(id);
        continue;
      }
      // Keep trailing headings and introducing lines with what follows, when they fit there.
      let carry: number[] = [];
      while (current.pieces.length - current.overlap - carry.length > 1) {
        const last = current.pieces[current.pieces.length - 1 - carry.length]!;
        if (!pieces[last]!.sticky) break;
        carry = [last, ...carry];
      }
      if (carry.length > 0 && this.length(pieces, [...carry, id]) <= this.maxChars) {
        current.pieces = current.pieces.slice(0, current.pieces.length - carry.length);
      } else {
        carry = [];
      }
      drafts.push(current);
      const next = [...carry, id];
      const overlap = this.overlapFor(pieces, current.pieces, next);
      current = { pieces: [...overlap, ...next], overlap: overlap.length };
    }
    drafts.push(current);
    return drafts;
  }

  /** Moves sentences from the second-to-last chunk into a last chunk shorter than `minChars`. */
  private rebalanceLast(drafts: Draft[], pieces: readonly Piece[]): void {
    if (drafts.length < 2 || this.minChars === 0) return;
    const a = drafts[drafts.length - 2]!;
    const b = drafts[drafts.length - 1]!;
    if (this.length(pieces, b.pieces) >= this.minChars) return;
    const sequence = [...a.pieces, ...b.pieces.slice(b.overlap)];
    const score = (first: readonly number[], second: readonly number[]): number =>
      Math.min(this.length(pieces, first), this.length(pieces, second));
    let best: { a: Draft; b: Draft } | undefined;
    let bestScore = score(a.pieces, b.pieces);
    // A split after `cut` pieces: the first chunk keeps its start (and its own overlap).
    for (let cut = a.overlap + 1; cut < sequence.length; cut++) {
      const first = sequence.slice(0, cut);
      const rest = sequence.slice(cut);
      if (pieces[first[first.length - 1]!]!.sticky) continue;
      if (this.length(pieces, first) > this.maxChars) continue;
      const overlap = this.overlapFor(pieces, first, rest);
      const second = [...overlap, ...rest];
      if (this.length(pieces, second) > this.maxChars) continue;
      const candidate = score(first, second);
      if (candidate > bestScore) {
        bestScore = candidate;
        best = { a: { pieces: first, overlap: a.overlap }, b: { pieces: second, overlap: overlap.length } };
      }
    }
    if (best) {
      drafts[drafts.length - 2] = best.a;
      drafts[drafts.length - 1] = best.b;
    }
  }
}

/** Slices of `text` (already whitespace-normalised) of at most `maxChars`, cut between words. */
export function splitAtWords(text: string, maxChars: number): string[] {
  const parts: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (word.length > maxChars) {
      if (current !== '') parts.push(current);
      current = '';
      for (let offset = 0; offset < word.length; offset += maxChars) {
        const slice = word.slice(offset, offset + maxChars);
        if (slice.length === maxChars) parts.push(slice);
        else current = slice;
      }
      continue;
    }
    const candidate = current === '' ? word : `${current} ${word}`;
    if (candidate.length <= maxChars) current = candidate;
    else {
      parts.push(current);
      current = word;
    }
  }
  if (current !== '') parts.push(current);
  return parts;
}
