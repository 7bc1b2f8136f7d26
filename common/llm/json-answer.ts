import { UpstreamError } from '../errors';

const SNIPPET_CHARS = 200;

/** The start of a model's answer, on one line, for error messages. */
export function answerSnippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty answer)';
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS - 3)}...` : flat;
}

/**
 * JSON from a model's answer: as is, inside ``` fences, or the one object prose surrounds.
 * Throws UpstreamError prefixed with `who` (e.g. "LLM extractor") and the answer's start.
 */
export function parseJsonAnswer(answer: string, who: string): unknown {
  let text = answer.trim();
  const fenced = /```[a-zA-Z]*\s*\n?([\s\S]*?)\n?\s*```/.exec(text);
  if (fenced) text = fenced[1]!.trim();
  try {
    return JSON.parse(text);
  } catch {
    const start = text.indexOf('{');
    const end = text.lastIndexOf('}');
    if (start >= 0 && end > start) {
      try {
        return JSON.parse(text.slice(start, end + 1));
      } catch {
        // reported below
      }
    }
    throw new UpstreamError(`${who}: the model's answer is not valid JSON: ${answerSnippet(answer)}`);
  }
}
