import {
  analyseSentence,
  mergeEntities,
  properWordsOf,
  recognizeEntities,
  resolveRelativeDays,
  type AnalysedSentence,
} from './entity-recognizer';
import { isQuestion, RuleCategorizer } from './rule-categorizer';
import { SentenceChunker } from './sentence-chunker';
import { normaliseWhitespace, splitSentences, type Sentence } from './sentence-splitter';
import type {
  EntityMention,
  ExtractedMemory,
  ExtractionInput,
  ExtractionResult,
  Extractor,
  MemoryCategory,
} from './types';

export interface RuleExtractorOptions {
  /** Longest memory; longer documents, procedures and tool outputs are chunked. @default 1200 */
  maxMemoryChars?: number;
  /** Sentences an event may have and still be kept as one memory. @default 2 */
  maxSentencesPerEventMemory?: number;
  categorizer?: RuleCategorizer;
}

/** Words of small talk: a sentence made only of these (and names) carries nothing to remember. */
const PLEASANTRY_WORDS = new Set(
  (
    'hi hello hey hiya yo there all everyone everybody folks team guys again thanks thank thx ty tysm you ' +
    'so much very a lot lots ok okay k kk alright right sure cool great awesome perfect nice good fine ' +
    "excellent wonderful amazing brilliant sounds got it that that's thats noted understood yes yeah yep yup " +
    'no nope nah bye goodbye see ya later soon cheers take care morning afternoon evening night day have ' +
    "welcome you're youre np problem worries lol haha hmm oh ah wow please well done appreciate appreciated " +
    'for the help your my pleasure of course will do glad to hear talk speak'
  ).split(/\s+/),
);

/** Closing phrases of small talk that use ordinary words. */
const PLEASANTRY_PHRASES =
  /^(?:let me know if (?:you need|there(?:['’]s| is) anything|anything else)[^.!?]*|have a (?:nice|good|great|lovely) (?:day|weekend|evening|one)|hope (?:this|that) helps|happy to help|glad (?:i could|to) help|any time|anytime)[.!\s]*$/i;

/** A sentence of small talk (`thanks!`, `ok`, `hi there`, `Thanks, Alice!`). */
function isPleasantry(sentence: Sentence, entities: readonly EntityMention[]): boolean {
  if (PLEASANTRY_PHRASES.test(sentence.body)) return true;
  const names = new Set(
    entities
      .filter((entity) => entity.type === 'PERSON')
      .flatMap((entity) => entity.name.toLowerCase().split(/\s+/)),
  );
  const words = (
    sentence.body
      .toLowerCase()
      .replace(/’/g, "'")
      .match(/[\p{L}\p{N}']+/gu) ?? []
  ).filter((word) => !names.has(word));
  if (words.length > 12) return false;
  return words.every((word) => PLEASANTRY_WORDS.has(word));
}

function wordCount(text: string): number {
  return text.match(/[\p{L}\p{N}]+/gu)?.length ?? 0;
}

/**
 * {@link Extractor} by rules, offline and deterministic (id `rules`), on wink-nlp and compromise.
 *
 * - **Conversation events** (USER_MESSAGE, ASSISTANT_MESSAGE, NOTE): small talk is dropped
 *   (`thanks!`, `ok`, `hi there` give no memory); what is left is kept as written, as one memory
 *   when it is at most two sentences (or a procedure, kept whole up to `maxMemoryChars`), else one
 *   memory per informative sentence. Questions are kept (EPISODE memories with their entities).
 *   `yesterday`/`today`/`tomorrow` get the ISO day from `occurredAt` appended in brackets.
 * - **Tool results**: one EPISODE memory with the output (JSON re-serialised compactly), chunked
 *   when longer than `maxMemoryChars`; entities come from the output's string values.
 * - **Documents** (a document or one chunk of it): one memory per {@link SentenceChunker} chunk,
 *   DOCUMENT unless clearly a PROCEDURE.
 *
 * Categories come from {@link RuleCategorizer}; entities from {@link recognizeEntities}
 * (de-duplicated case-insensitively per memory).
 *
 * Promotion prompts (`input.prompts`) are not used: rules cannot follow free-text instructions,
 * so this extractor keeps everything informative whatever the scope, and the scope bias of seed
 * 000 applies only with an LLM (`LlmExtractor`) and, later, at promotion.
 *
 * Throughput: ~300–370 events/s on ~20-word chat turns, single thread, on the 2-core development
 * machine (measured in test/integration/extraction.test.ts); ~3 ms per turn, 90% of it in
 * compromise. Far above embedding's ~35 turns/s, so never the ingestion bottleneck.
 */
export class RuleExtractor implements Extractor {
  readonly id = 'rules';
  private readonly maxChars: number;
  private readonly maxSentences: number;
  private readonly categorizer: RuleCategorizer;
  private readonly chunker: SentenceChunker;

  constructor(options: RuleExtractorOptions = {}) {
    this.maxChars = options.maxMemoryChars ?? 1200;
    this.maxSentences = options.maxSentencesPerEventMemory ?? 2;
    this.categorizer = options.categorizer ?? new RuleCategorizer();
    this.chunker = new SentenceChunker({ maxChars: this.maxChars, overlapSentences: 1 });
  }

  async extract(input: ExtractionInput): Promise<ExtractionResult> {
    return { memories: this.extractSync(input) };
  }

  /** The same as {@link extract}, synchronously (rules never wait for anything). */
  extractSync(input: ExtractionInput): ExtractedMemory[] {
    if (normaliseWhitespace(input.text) === '') return [];
    if (input.source.type === 'document') return this.fromDocument(input);
    if (input.source.kind === 'TOOL_RESULT') return this.fromToolResult(input);
    return this.fromConversation(input);
  }

  private analyse(
    sentences: readonly Sentence[],
    occurredAt: Date | undefined,
  ): Array<{ sentence: AnalysedSentence; entities: EntityMention[] }> {
    const analysed = sentences.map(analyseSentence);
    const knownProper = properWordsOf(analysed);
    return analysed.map((sentence) => ({
      sentence,
      entities: recognizeEntities(sentence, { knownProper, occurredAt }),
    }));
  }

  private fromConversation(input: ExtractionInput): ExtractedMemory[] {
    const analysed = this.analyse(splitSentences(input.text), input.occurredAt);
    const informative = analysed.filter(
      ({ sentence, entities }) =>
        !isPleasantry(sentence, entities) &&
        (wordCount(sentence.body) >= 3 || entities.length > 0 || isQuestion(sentence.body)),
    );
    if (informative.length === 0) return [];
    const sentences = informative.map((item) => item.sentence);
    const category = this.categorizer.categorizeSentences(sentences, input.source);
    const content = sentences.map((sentence) => sentence.text).join(' ');
    const whole = informative.length <= this.maxSentences || category === 'PROCEDURE';
    if (whole && content.length <= this.maxChars) {
      return [
        this.memory(
          content,
          category,
          informative.map((item) => item.entities),
          input.occurredAt,
        ),
      ];
    }
    if (category === 'PROCEDURE') return this.chunked(informative, category, input.occurredAt);
    return informative.flatMap((item) => {
      const own = this.categorizer.categorizeSentences([item.sentence], input.source);
      if (item.sentence.text.length <= this.maxChars) {
        return [this.memory(item.sentence.text, own, [item.entities], input.occurredAt)];
      }
      return this.chunked([item], own, input.occurredAt);
    });
  }

  private fromDocument(input: ExtractionInput): ExtractedMemory[] {
    // Documents are not anchored in a conversation's time: `today` in a policy is not resolved.
    const analysed = this.analyse(splitSentences(input.text), undefined);
    return this.chunked(analysed, undefined, undefined);
  }

  private fromToolResult(input: ExtractionInput): ExtractedMemory[] {
    const trimmed = input.text.trim();
    let content = normaliseWhitespace(trimmed);
    let sources: Sentence[];
    try {
      const parsed: unknown = JSON.parse(trimmed);
      content = JSON.stringify(parsed);
      sources = stringLeaves(parsed).flatMap((leaf) => splitSentences(leaf));
    } catch {
      sources = splitSentences(trimmed);
    }
    if (!/[\p{L}\p{N}]/u.test(content)) return [];
    const entities = mergeEntities(this.analyse(sources, input.occurredAt).map((item) => item.entities));
    const category: MemoryCategory = this.categorizer.categorizeSentences([], input.source);
    const parts =
      content.length <= this.maxChars ? [content] : this.chunker.chunk(content).map((chunk) => chunk.content);
    return parts.map((part) => ({
      content: part,
      category,
      entities: entities.filter((entity) => part.toLowerCase().includes(entity.name.toLowerCase())),
    }));
  }

  /** One memory per chunk of the sentences; the category is the chunk's own unless given. */
  private chunked(
    items: ReadonlyArray<{ sentence: AnalysedSentence; entities: EntityMention[] }>,
    category: MemoryCategory | undefined,
    occurredAt: Date | undefined,
  ): ExtractedMemory[] {
    const chunks = this.chunker.chunkSentences(items.map((item) => item.sentence));
    return chunks.map((chunk) => {
      const members = chunk.sentenceIndexes.map((index) => items[index]!);
      const own =
        category ??
        this.categorizer.categorizeSentences(
          members.map((item) => item.sentence),
          { type: 'document' },
        );
      const partial = members.some((item) => !chunk.content.includes(item.sentence.text));
      const entities = members.map((item) =>
        partial
          ? item.entities.filter((entity) => chunk.content.toLowerCase().includes(entity.name.toLowerCase()))
          : item.entities,
      );
      return this.memory(chunk.content, own, entities, occurredAt);
    });
  }

  private memory(
    content: string,
    category: MemoryCategory,
    entities: ReadonlyArray<readonly EntityMention[]>,
    occurredAt: Date | undefined,
  ): ExtractedMemory {
    return { content: resolveRelativeDays(content, occurredAt), category, entities: mergeEntities(entities) };
  }
}

/** Every string in a JSON value (object values and array items, depth-first). */
function stringLeaves(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 32) return out;
  if (typeof value === 'string') {
    if (value.trim() !== '') out.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) stringLeaves(item, out, depth + 1);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) stringLeaves(item, out, depth + 1);
  }
  return out;
}
