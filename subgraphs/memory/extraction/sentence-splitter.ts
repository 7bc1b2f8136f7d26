import { analyseWithWink } from './nlp';

/** What a sentence is in the layout of its text. */
export type SentenceKind = 'heading' | 'bullet' | 'text';

export interface Sentence {
  /** The sentence with whitespace normalised, list and heading markers kept (`- item`, `1. Open…`, `## Title`). */
  text: string;
  /** The same without its list or heading marker: what NLP analyses. */
  body: string;
  kind: SentenceKind;
  /** True for the first sentence of a line, bullet, heading or paragraph. */
  blockStart: boolean;
  /** True when the sentence ends with `:` and so introduces what follows (a list, a step). */
  introduces: boolean;
}

/** `- `, `* `, `• `, `1. `, `1) `, `(1) `, `a) `: a list item's marker. */
const BULLET = /^(?:[-*•‣◦▪–]\s+|\(?\d{1,3}[.)]\s+|\(?[a-z][)]\s+|[a-z][.]\s+(?=[A-Z]))/;
/** A list marker on its own, as wink leaves it when steps are written inline: `1.`, `2)`. */
const LONE_MARKER = /^\(?(?:\d{1,3}|[a-z])[.)]$/;
const MARKDOWN_HEADING = /^#{1,6}\s+/;
/** Setext underline (`====`, `----`) or a horizontal rule. */
const RULE_LINE = /^(?:[=]{3,}|[-]{3,}|[*]{3,}|_{3,})$/;
const TERMINAL = /[.!?…:;,)"'”’]$/;
const WORDS = /\S+/g;

interface Block {
  kind: SentenceKind;
  marker: string;
  body: string;
  lines: number;
}

/** Collapses every run of whitespace to one space and trims. */
export function normaliseWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Splits text into sentences, deterministic and offline.
 *
 * Layout first: a blank line, a bullet or numbered item, a markdown heading, or a line without
 * closing punctuation followed by a capitalised line (a title, a chat line) always ends a
 * sentence; hard-wrapped prose lines are joined. Within each block wink-nlp finds the sentence
 * boundaries (abbreviations such as `e.g.` and `Mr.` do not split), and two of its slips are
 * repaired: a split with no space after it (`v2.` + `3`) is glued back, and an inline list
 * marker left on its own (`1.`) is attached to the step it numbers.
 */
export function splitSentences(text: string): Sentence[] {
  const sentences: Sentence[] = [];
  for (const block of toBlocks(text)) {
    if (block.kind === 'heading') {
      const body = normaliseWhitespace(block.body);
      if (body === '') continue;
      sentences.push(makeSentence(`${block.marker}${body}`, body, 'heading', true));
      continue;
    }
    const parts = splitBlock(block.body);
    parts.forEach((part, index) => {
      const inlineMarker = index > 0 ? '' : block.marker;
      const marker = part.marker ?? inlineMarker;
      const kind: SentenceKind = marker !== '' ? 'bullet' : 'text';
      sentences.push(
        makeSentence(`${marker}${part.body}`, part.body, kind, index === 0 || part.marker !== undefined),
      );
    });
  }
  return sentences;
}

function makeSentence(text: string, body: string, kind: SentenceKind, blockStart: boolean): Sentence {
  return { text, body, kind, blockStart, introduces: /:$/.test(body) };
}

/** Groups lines into headings, list items and paragraphs. */
function toBlocks(text: string): Block[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let current: Block | undefined;
  /** Whether the last line of `current` ended without closing punctuation. */
  let openEnded = false;
  const flush = (): void => {
    if (current && current.body.trim() !== '') blocks.push(current);
    current = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.trim();
    if (line === '') {
      flush();
      continue;
    }
    if (RULE_LINE.test(line)) {
      // A setext underline makes the previous single line a heading; a rule just separates.
      if (current && current.kind === 'text' && current.lines === 1 && line[0] !== '*' && line[0] !== '_') {
        current.kind = 'heading';
      }
      flush();
      continue;
    }
    const heading = MARKDOWN_HEADING.exec(line);
    if (heading) {
      flush();
      blocks.push({
        kind: 'heading',
        marker: heading[0].trim() + ' ',
        body: line.slice(heading[0].length),
        lines: 1,
      });
      continue;
    }
    const bullet = BULLET.exec(line);
    if (bullet) {
      flush();
      current = {
        kind: 'bullet',
        marker: bullet[0].trim() + ' ',
        body: line.slice(bullet[0].length),
        lines: 1,
      };
      openEnded = !TERMINAL.test(line);
      continue;
    }
    if (current) {
      const indented = /^\s/.test(raw);
      const continues = /^[a-z0-9(,;]/.test(line) || (indented && current.kind === 'bullet');
      if (continues || (!openEnded && current.kind === 'text')) {
        // Joined with a space: wink does not split sentences at a line break.
        current.body += ` ${line}`;
        current.lines += 1;
        openEnded = !TERMINAL.test(line);
        continue;
      }
      // A line without closing punctuation followed by a capitalised line: a title or a chat line.
      if (current.kind === 'text' && current.lines === 1 && openEnded && wordCount(current.body) <= 12) {
        current.kind = 'heading';
      }
      flush();
    }
    current = { kind: 'text', marker: '', body: line, lines: 1 };
    openEnded = !TERMINAL.test(line);
  }
  flush();
  return blocks;
}

function wordCount(text: string): number {
  return text.match(WORDS)?.length ?? 0;
}

interface Part {
  body: string;
  /** Set when an inline list marker (`2.`) was attached to this sentence. */
  marker?: string;
}

/** wink's sentences of one block, with its slips repaired. */
function splitBlock(body: string): Part[] {
  const { tokens, sentences } = analyseWithWink(body);
  const parts: Array<{ start: number; end: number; glued: boolean }> = [];
  for (const [first, last] of sentences) {
    const a = tokens[first];
    const b = tokens[last];
    if (!a || !b) continue;
    parts.push({ start: a.start, end: b.end, glued: first > 0 && a.precedingSpaces === '' });
  }
  // Glue back splits that had no space after them (`v2.3`, `node.js`).
  const merged: Array<{ start: number; end: number }> = [];
  for (const part of parts) {
    const previous = merged[merged.length - 1];
    if (previous && part.glued) previous.end = part.end;
    else merged.push({ start: part.start, end: part.end });
  }
  const result: Part[] = [];
  let pendingMarker: string | undefined;
  for (const { start, end } of merged.flatMap((part) => splitAfterInitials(body, part))) {
    const text = normaliseWhitespace(body.slice(start, end));
    if (text === '') continue;
    if (LONE_MARKER.test(text)) {
      pendingMarker = `${text} `;
      continue;
    }
    // Punctuation or emoji on its own belongs to the sentence before it.
    if (!/[\p{L}\p{N}]/u.test(text) && result.length > 0) {
      const previous = result[result.length - 1]!;
      previous.body = `${previous.body} ${text}`;
      continue;
    }
    result.push(pendingMarker !== undefined ? { body: text, marker: pendingMarker } : { body: text });
    pendingMarker = undefined;
  }
  if (pendingMarker !== undefined) result.push({ body: pendingMarker.trim() });
  return result;
}

/**
 * wink reads `X.` as a middle initial (`John F. Kennedy`) and so does not split `…Product X. The
 * integration…`: split there when the next word is one that opens sentences, never a surname.
 */
const AFTER_INITIAL =
  /(?<=\s\p{Lu})\.\s+(?=(?:The|A|An|It|Its|We|I|You|They|This|That|These|Those|Our|Their|He|She|There|Here|What|When|Where|Why|How|Do|Does|Can|Please|If|But|And|So|My|Your|In|On|At|For|Is|Are)\b)/gu;

function splitAfterInitials(
  body: string,
  part: { start: number; end: number },
): Array<{ start: number; end: number }> {
  const pieces: Array<{ start: number; end: number }> = [];
  let start = part.start;
  for (const match of body.slice(part.start, part.end).matchAll(AFTER_INITIAL)) {
    const cut = part.start + match.index + 1;
    pieces.push({ start, end: cut });
    start = cut + match[0].length - 1;
  }
  pieces.push({ start, end: part.end });
  return pieces;
}
