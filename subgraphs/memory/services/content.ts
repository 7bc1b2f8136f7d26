import { createHash } from 'node:crypto';

/** Content hash used for exact dedup and idempotent document re-ingestion. */
export function contentHash(text: string): string {
  return createHash('sha256').update(normalizeContent(text)).digest('hex');
}

/** Whitespace-normalised content: what is stored and compared. */
export function normalizeContent(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t]+/g, ' ')
    .trim();
}
