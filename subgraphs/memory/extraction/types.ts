/** Categories of a memory (DESIGN.md section 2). */
export type MemoryCategory = 'FACT' | 'PREFERENCE' | 'PROCEDURE' | 'EPISODE' | 'DOCUMENT';

/** Types of the entities extraction recognises; the entity subgraph resolves them. */
export type { EntityType } from '../../../common/entity-types';
import type { EntityType } from '../../../common/entity-types';

export interface EntityMention {
  /** As written in the text, trimmed (e.g. "Product X"). */
  name: string;
  type: EntityType;
}

/** Promotion prompts of the scopes an input belongs to (seed 000): they bias extraction. */
export interface ScopePrompts {
  org?: string;
  role?: string;
  team?: string;
}

export interface ExtractionInput {
  text: string;
  /** Conversation event (with its kind) or a document chunk. */
  source:
    | { type: 'event'; kind: 'USER_MESSAGE' | 'ASSISTANT_MESSAGE' | 'TOOL_RESULT' | 'NOTE' }
    | { type: 'document' };
  /** When the event happened; lets the extractor resolve relative dates. */
  occurredAt?: Date;
  prompts: ScopePrompts;
}

export interface ExtractedMemory {
  /** A self-contained statement worth remembering. */
  content: string;
  category: MemoryCategory;
  entities: EntityMention[];
}

export interface ExtractionResult {
  memories: ExtractedMemory[];
  /** The full prompt sent to a model, when one was used (for tests and debugging). */
  prompt?: string;
}

/**
 * Port: turns one event or document chunk into the memories worth keeping, each with a
 * category and the entities it mentions. Adapters: the embedded rule/NLP extractor and an
 * LLM extractor whose prompt includes the scope's promotion prompts.
 */
export interface Extractor {
  /** `rules` or `llm:<model>`, recorded in memory metadata. */
  readonly id: string;
  extract(input: ExtractionInput): Promise<ExtractionResult>;
}

/** Port: the category of a whole text (an event, or a document before it is chunked). */
export interface Categorizer {
  categorize(text: string, source: ExtractionInput['source']): MemoryCategory;
}

export interface Chunk {
  index: number;
  content: string;
}

/** Port: splits a document into overlapping, sentence-aligned chunks of bounded size. */
export interface Chunker {
  chunk(text: string): Chunk[];
}
