import type { LlmClient } from '../../../common/llm/llm-client';
import { LlmExtractor } from './llm-extractor';
import { RuleCategorizer } from './rule-categorizer';
import { RuleExtractor } from './rule-extractor';
import { SentenceChunker, type SentenceChunkerOptions } from './sentence-chunker';
import type { Categorizer, Chunker, Extractor } from './types';

export * from './types';
export { LlmExtractor, buildUserPrompt, EXTRACTION_PROMPT_VERSION } from './llm-extractor';
export { RuleCategorizer } from './rule-categorizer';
export { RuleExtractor, type RuleExtractorOptions } from './rule-extractor';
export { SentenceChunker, type SentenceChunk, type SentenceChunkerOptions } from './sentence-chunker';
export { splitSentences, type Sentence, type SentenceKind } from './sentence-splitter';

/**
 * The extraction stage's extractor: the LLM one when a chat model is configured (its prompt
 * carries the scope's promotion prompts), else the offline rule extractor.
 */
export function createExtractor(llm?: LlmClient): Extractor {
  return llm ? new LlmExtractor(llm) : new RuleExtractor();
}

/** The categorizer the pipeline's `categorize` stage uses (rules; the LLM extractor also falls back to it). */
export function createCategorizer(): Categorizer {
  return new RuleCategorizer();
}

/** The document chunker (defaults: 1200 characters, one sentence of overlap). */
export function createChunker(options?: SentenceChunkerOptions): Chunker {
  return new SentenceChunker(options);
}
