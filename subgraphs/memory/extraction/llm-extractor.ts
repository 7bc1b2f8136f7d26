import { ENTITY_TYPES } from '../../../common/entity-types';
import { answerSnippet, parseJsonAnswer } from '../../../common/llm/json-answer';
import { UpstreamError } from '../../../common/errors';
import type { LlmClient } from '../../../common/llm/llm-client';
import { mergeEntities } from './entity-recognizer';
import { RuleCategorizer } from './rule-categorizer';
import type {
  EntityMention,
  EntityType,
  ExtractedMemory,
  ExtractionInput,
  ExtractionResult,
  Extractor,
  MemoryCategory,
} from './types';

export const MEMORY_CATEGORIES: readonly MemoryCategory[] = [
  'FACT',
  'PREFERENCE',
  'PROCEDURE',
  'EPISODE',
  'DOCUMENT',
];
export { ENTITY_TYPES };

/** Bump when the instructions change, so stored memories can say which prompt made them. */
export const EXTRACTION_PROMPT_VERSION = 'extract-v1';

/** Common spellings models use for our categories. Anything else falls back to the rule categorizer. */
const CATEGORY_SYNONYMS: Record<string, MemoryCategory> = {
  FACTS: 'FACT',
  FACTUAL: 'FACT',
  PREFERENCES: 'PREFERENCE',
  PROCEDURES: 'PROCEDURE',
  PROCEDURAL: 'PROCEDURE',
  INSTRUCTION: 'PROCEDURE',
  INSTRUCTIONS: 'PROCEDURE',
  HOW_TO: 'PROCEDURE',
  EPISODES: 'EPISODE',
  EPISODIC: 'EPISODE',
  EVENT: 'EPISODE',
  QUESTION: 'EPISODE',
  TOOL_RESULT: 'EPISODE',
  DOCUMENTS: 'DOCUMENT',
  DOC: 'DOCUMENT',
  DOCUMENT_CHUNK: 'DOCUMENT',
};

/** Common spellings models use for entity types. Anything else becomes a TERM. */
const TYPE_SYNONYMS: Record<string, EntityType> = {
  PEOPLE: 'PERSON',
  USER: 'PERSON',
  ORG: 'ORGANIZATION',
  ORGANISATION: 'ORGANIZATION',
  COMPANY: 'ORGANIZATION',
  CUSTOMER: 'ORGANIZATION',
  TEAM: 'ORGANIZATION',
  TOOL: 'PRODUCT',
  SOFTWARE: 'PRODUCT',
  SERVICE: 'PRODUCT',
  APP: 'PRODUCT',
  APPLICATION: 'PRODUCT',
  LOCATION: 'PLACE',
  GPE: 'PLACE',
  CITY: 'PLACE',
  COUNTRY: 'PLACE',
  TIME: 'DATE',
  DATETIME: 'DATE',
  CURRENCY: 'MONEY',
  PRICE: 'MONEY',
  AMOUNT: 'MONEY',
  EMAIL_ADDRESS: 'EMAIL',
  PHONE_NUMBER: 'PHONE',
  TELEPHONE: 'PHONE',
  LINK: 'URL',
  WEBSITE: 'URL',
};

const SYSTEM_PROMPT = [
  "You extract long-term memories for an AI agent's memory store from one piece of text.",
  'Answer with JSON only (no prose, no code fences), exactly in this shape:',
  '{"memories":[{"content":"...","category":"FACT","entities":[{"name":"...","type":"PRODUCT"}]}]}',
  'Rules:',
  '- content: one self-contained statement worth remembering later. Keep names, numbers, dates and versions exact; ' +
    'turn relative dates ("yesterday") into calendar dates using the date the text occurred at.',
  '- category: one of FACT (a durable statement about the world), PREFERENCE (what someone likes, dislikes or ' +
    'wants done a certain way), PROCEDURE (steps or instructions), EPISODE (something that happened, a question ' +
    "that was asked, a tool's output), DOCUMENT (a passage of a document worth keeping as it is).",
  '- entities: the people, organisations, products, places, dates, amounts, emails, phone numbers, URLs and terms ' +
    `the memory mentions; type is one of ${ENTITY_TYPES.join(', ')}.`,
  '- Questions are EPISODE memories: keep them, with the entities they mention.',
  '- Small talk with nothing worth remembering (greetings, thanks, "ok") gives {"memories":[]}.',
  '- Follow the scope instructions you are given: they say what matters to this organisation, team and role.',
].join('\n');

/** The levels whose promotion prompts bias extraction, most general first (most specific last). */
const LEVELS = [
  { key: 'org', label: 'Organisation' },
  { key: 'team', label: 'Team' },
  { key: 'role', label: 'Role' },
] as const;

/**
 * {@link Extractor} on a chat model ({@link LlmClient}), id `llm:<model>`.
 *
 * The prompt (seed 000: "the memory extractor uses the role's/team's promotion_prompt to bias
 * extraction") holds, after fixed instructions: the promotion prompts present in
 * `input.prompts`, each under its level's label, **most general first and most specific last**
 * (organisation, then team, then role, following the scope order ACTOR → ROLE → TEAM → ORG), so
 * the instruction nearest the text is the most specific and wins a conflict; the source type
 * (event kind or document); the `occurredAt` date; and the text. Absent prompts are left out.
 *
 * The answer must be JSON `{ "memories": [{ "content", "category", "entities": [{ "name", "type" }] }] }`,
 * optionally wrapped in ``` fences or in a sentence of prose around one JSON object. Validation:
 * - not JSON, or no `memories` array: {@link UpstreamError} quoting the start of the answer;
 * - a memory without a non-empty string `content` is dropped;
 * - categories are matched case-insensitively, common synonyms are mapped (`FACTUAL` → FACT,
 *   `EVENT`/`QUESTION` → EPISODE, ...), and any other value is replaced by what
 *   {@link RuleCategorizer} says of the content (so a memory is never lost to a label);
 * - entity types likewise (`ORG` → ORGANIZATION, `TOOL` → PRODUCT, `LOCATION` → PLACE, ...), any
 *   other becomes TERM; entities without a name are dropped; names are de-duplicated
 *   case-insensitively.
 *
 * The result's `prompt` is the full text sent (system and user messages, separated by a blank line).
 */
export class LlmExtractor implements Extractor {
  readonly id: string;

  constructor(
    private readonly llm: LlmClient,
    private readonly categorizer: RuleCategorizer = new RuleCategorizer(),
  ) {
    this.id = `llm:${llm.model}`;
  }

  async extract(input: ExtractionInput): Promise<ExtractionResult> {
    const system = SYSTEM_PROMPT;
    const user = buildUserPrompt(input);
    const prompt = `${system}\n\n${user}`;
    if (input.text.trim() === '') return { memories: [], prompt };
    const answer = await this.llm.chat({
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
      temperature: 0,
    });
    return { memories: this.parse(answer.content, input), prompt };
  }

  /** Validates the model's answer into memories (see the class comment for the rules). */
  parse(answer: string, input: ExtractionInput): ExtractedMemory[] {
    const json = parseJsonAnswer(answer, 'LLM extractor');
    if (
      typeof json !== 'object' ||
      json === null ||
      Array.isArray(json) ||
      !Array.isArray((json as { memories?: unknown }).memories)
    ) {
      throw new UpstreamError(
        `LLM extractor: the model's answer has no "memories" array: ${answerSnippet(answer)}`,
      );
    }
    const memories: ExtractedMemory[] = [];
    for (const item of (json as { memories: unknown[] }).memories) {
      if (typeof item !== 'object' || item === null) continue;
      const record = item as Record<string, unknown>;
      if (typeof record.content !== 'string') continue;
      const content = record.content.replace(/\s+/g, ' ').trim();
      if (content === '') continue;
      const category = toCategory(record.category) ?? this.categorizer.categorize(content, input.source);
      memories.push({ content, category, entities: toEntities(record.entities) });
    }
    return memories;
  }
}

/** The user message: scope instructions, source, date and the text. */
export function buildUserPrompt(input: ExtractionInput): string {
  const sections: string[] = [];
  const prompts = LEVELS.flatMap(({ key, label }) => {
    const text = input.prompts[key]?.trim();
    return text ? [`[${label} promotion prompt]\n${text}`] : [];
  });
  if (prompts.length > 0) {
    sections.push(
      'Scope instructions (most general first, most specific last; when they disagree, the later one wins):\n' +
        prompts.join('\n\n'),
    );
  } else {
    sections.push('Scope instructions: none given; keep what is durable and useful to the organisation.');
  }
  const source =
    input.source.type === 'document'
      ? 'a document (or a chunk of one): organisational context'
      : `a conversation event of kind ${input.source.kind}`;
  sections.push(`Source: ${source}`);
  sections.push(`Occurred at: ${input.occurredAt ? input.occurredAt.toISOString() : 'unknown'}`);
  sections.push(`Text:\n"""\n${input.text.trim()}\n"""`);
  return sections.join('\n\n');
}

function normaliseLabel(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return value
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
}

function toCategory(value: unknown): MemoryCategory | undefined {
  const label = normaliseLabel(value);
  if (label === undefined) return undefined;
  if ((MEMORY_CATEGORIES as readonly string[]).includes(label)) return label as MemoryCategory;
  return CATEGORY_SYNONYMS[label];
}

function toEntityType(value: unknown): EntityType {
  const label = normaliseLabel(value);
  if (label === undefined) return 'TERM';
  if ((ENTITY_TYPES as readonly string[]).includes(label)) return label as EntityType;
  return TYPE_SYNONYMS[label] ?? 'TERM';
}

function toEntities(value: unknown): EntityMention[] {
  if (!Array.isArray(value)) return [];
  const entities: EntityMention[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) continue;
    const record = item as Record<string, unknown>;
    if (typeof record.name !== 'string') continue;
    const name = record.name.replace(/\s+/g, ' ').trim();
    if (name === '') continue;
    entities.push({ name, type: toEntityType(record.type) });
  }
  return mergeEntities([entities]);
}
