import nlp from 'compromise';
import model from 'wink-eng-lite-web-model';
import winkNLP from 'wink-nlp';

/**
 * The two offline NLP engines behind the rule extractor, loaded once per process on first use:
 *
 * - `wink-nlp` with `wink-eng-lite-web-model`: sentence boundaries, token offsets, its lexicon
 *   (out-of-vocabulary test) and the entities it recognises (dates, money, emails, URLs).
 * - `compromise`: part-of-speech tags per term, people, places, organisations, phone numbers.
 *
 * Both are pure functions of their input: the same text always gives the same analysis.
 */

type Wink = ReturnType<typeof winkNLP>;

let wink: Wink | undefined;
let winkUses = 0;
/** A document of the current instance, for lexicon look-ups. */
let probeDoc: ReturnType<Wink['readDoc']> | undefined;

/**
 * wink adds every out-of-vocabulary word it reads (names, ids, hashes) to its instance's lexicon
 * for good: ~80 bytes each, without bound in a long-running worker. The instance is therefore
 * replaced after this many documents (~100 ms to rebuild, i.e. well under 1% of the time).
 */
const WINK_DOCS_PER_INSTANCE = 50_000;

/** The shared wink-nlp instance (created on first use: the model takes ~100 ms to load). */
export function winkEngine(): Wink {
  if (!wink || winkUses >= WINK_DOCS_PER_INSTANCE) {
    wink = winkNLP(model);
    winkUses = 0;
    probeDoc = undefined;
  }
  return wink;
}

/** A document of the current instance; analyses go through here so that they are counted. */
function readDoc(text: string): ReturnType<Wink['readDoc']> {
  const engine = winkEngine();
  winkUses += 1;
  return engine.readDoc(text);
}

/** One token of wink's tokenisation, with its offsets in the analysed text. */
export interface WinkToken {
  value: string;
  start: number;
  end: number;
  /** Whitespace that preceded the token in the text ('' when glued to the previous one). */
  precedingSpaces: string;
}

export interface WinkEntity {
  /** wink's entity type: DATE, MONEY, EMAIL, URL, DURATION, CARDINAL, ... */
  type: string;
  value: string;
  start: number;
  end: number;
}

export interface WinkAnalysis {
  tokens: WinkToken[];
  /** Inclusive token index spans of wink's sentences. */
  sentences: Array<[number, number]>;
  entities: WinkEntity[];
}

/** Tokens, sentence spans and entities of `text`, with character offsets into `text`. */
export function analyseWithWink(text: string): WinkAnalysis {
  const doc = readDoc(text);
  const its = winkEngine().its;
  const values = doc.tokens().out(its.value) as string[];
  const spaces = doc.tokens().out(its.precedingSpaces) as string[];
  const tokens: WinkToken[] = [];
  let cursor = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? '';
    const precedingSpaces = spaces[i] ?? '';
    // wink keeps every character: the spaces before a token, then the token itself. Guard with
    // indexOf anyway so an unexpected normalisation cannot shift every later offset.
    let start = cursor + precedingSpaces.length;
    if (text.slice(start, start + value.length) !== value) {
      const found = text.indexOf(value, cursor);
      start = found >= 0 ? found : start;
    }
    const end = start + value.length;
    tokens.push({ value, start, end, precedingSpaces });
    cursor = end;
  }
  const sentences = (doc.sentences().out(its.span) as unknown as Array<[number, number]>).map(
    ([first, last]): [number, number] => [first, last],
  );
  const details = doc.entities().out(its.detail) as unknown as Array<{ value: string; type: string }>;
  const spans = doc.entities().out(its.span) as unknown as Array<[number, number]>;
  const entities: WinkEntity[] = [];
  details.forEach((detail, index) => {
    const span = spans[index];
    const first = span ? tokens[span[0]] : undefined;
    const last = span ? tokens[span[1]] : undefined;
    if (!first || !last) return;
    entities.push({
      type: detail.type,
      value: text.slice(first.start, last.end),
      start: first.start,
      end: last.end,
    });
  });
  return { tokens, sentences, entities };
}

/** True when wink's English lexicon does not know `word` (lower-cased): names, brands, jargon. */
export function isOutOfVocabulary(word: string): boolean {
  // isOOV lives on the document API; any document gives access to the instance's lexicon.
  const engine = winkEngine();
  probeDoc ??= engine.readDoc('probe');
  return probeDoc.isOOV(word.toLowerCase());
}

/** One term as compromise tagged it, with offsets into the analysed text. */
export interface Term {
  /** The word without surrounding punctuation, e.g. `Teams` in `Teams.` */
  text: string;
  /** Punctuation and spaces before / after the word. */
  pre: string;
  post: string;
  tags: ReadonlySet<string>;
  start: number;
  end: number;
  /** Index of the compromise sentence the term belongs to. */
  sentence: number;
}

export type CompromiseEntityType = 'PERSON' | 'PLACE' | 'ORGANIZATION' | 'PHONE';

export interface CompromiseEntity {
  type: CompromiseEntityType;
  /** Trimmed of surrounding punctuation and a possessive `'s`. */
  text: string;
  start: number;
  end: number;
}

export interface CompromiseAnalysis {
  terms: Term[];
  entities: CompromiseEntity[];
}

interface JsonTerm {
  text?: string;
  pre?: string;
  post?: string;
  tags?: string[];
  offset?: { start: number; length: number };
}
interface JsonMatch {
  text?: string;
  offset?: { start: number; length: number };
  terms?: JsonTerm[];
}

/** Lower-case words that may sit inside a name (`Bank of America`, `Ludwig van Beethoven`). */
const NAME_CONNECTORS = new Set([
  'of',
  'de',
  'da',
  'del',
  'der',
  'van',
  'von',
  'la',
  'le',
  'and',
  '&',
  'du',
  'y',
]);

/** compromise tags that name an entity, and the type each gives. */
const ENTITY_TAGS: ReadonlyArray<[string, CompromiseEntityType]> = [
  ['PhoneNumber', 'PHONE'],
  ['Person', 'PERSON'],
  ['Organization', 'ORGANIZATION'],
  ['Place', 'PLACE'],
];

/**
 * Terms with part-of-speech tags, and the people, places, organisations and phone numbers in
 * `text`: runs of terms carrying the same entity tag, as compromise's `people()`, `places()`,
 * `organizations()` and `phoneNumbers()` select them, read from one `json()` pass (calling those
 * four methods costs as much again as parsing).
 */
export function analyseWithCompromise(text: string): CompromiseAnalysis {
  const doc = nlp(text);
  const terms: Term[] = [];
  const sentences = doc.json({ offset: true, terms: { offset: true } }) as JsonMatch[];
  sentences.forEach((sentence, index) => {
    for (const term of sentence.terms ?? []) {
      if (!term.offset || !term.text) continue;
      terms.push({
        text: term.text,
        pre: term.pre ?? '',
        post: term.post ?? '',
        tags: new Set(term.tags ?? []),
        start: term.offset.start,
        end: term.offset.start + term.offset.length,
        sentence: index,
      });
    }
  });
  const entities: CompromiseEntity[] = [];
  for (const [tag, type] of ENTITY_TAGS) {
    let run: Term[] = [];
    const flush = (): void => {
      const first = run[0];
      const last = run[run.length - 1];
      run = [];
      if (!first || !last) return;
      const entity = trimEntity(text, first.start, last.end);
      if (!entity) return;
      // `The Microsoft Teams` → `Microsoft Teams`.
      const article = /^(?:the|a|an)\s+/i.exec(entity.text)?.[0].length ?? 0;
      const name = entity.text.slice(article);
      // Names are capitalised: `Customer data` is not an organisation, whatever the tagger thinks.
      if (
        type !== 'PHONE' &&
        name.split(/\s+/).some((word) => /^\p{Ll}/u.test(word) && !NAME_CONNECTORS.has(word))
      ) {
        return;
      }
      if (name !== '') entities.push({ type, text: name, start: entity.start + article, end: entity.end });
    };
    terms.forEach((term, index) => {
      if (
        !term.tags.has(tag) ||
        entities.some((entity) => entity.start <= term.start && entity.end >= term.end)
      ) {
        flush();
        return;
      }
      const previous = terms[index - 1];
      // A name continues over spaces (and, for places, a comma: `Paris, France`); not over a sentence end.
      const continues =
        previous !== undefined &&
        previous === run[run.length - 1] &&
        previous.sentence === term.sentence &&
        (/^\s*$/.test(previous.post) ||
          (type === 'PHONE' && /^[\s-]*$/.test(previous.post)) ||
          (type === 'PLACE' && /^,\s+$/.test(previous.post)));
      if (!continues) flush();
      run.push(term);
    });
    flush();
  }
  entities.sort((a, b) => a.start - b.start);
  return { terms, entities };
}

const LEADING_JUNK = /^[\s"'“”‘’([{<*_`]+/;
const TRAILING_JUNK = /(?:['’]s\b)?[\s"'“”‘’)\]}>*_`.,;:!?]+$|['’]s$/;

/** `text[start, end)` without surrounding punctuation, quotes or a possessive `'s`; null when nothing is left. */
export function trimEntity(
  text: string,
  start: number,
  end: number,
): { text: string; start: number; end: number } | null {
  let slice = text.slice(start, end);
  const lead = LEADING_JUNK.exec(slice)?.[0].length ?? 0;
  slice = slice.slice(lead);
  let previous: string;
  do {
    previous = slice;
    slice = slice.replace(TRAILING_JUNK, '');
  } while (slice !== previous);
  if (slice === '') return null;
  return { text: slice, start: start + lead, end: start + lead + slice.length };
}
