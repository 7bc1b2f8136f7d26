/**
 * Retrieval metrics of the eval over evidence ids (event ids and document ids).
 *
 * A retrieved item covers the evidence ids it was made from (a memory's provenance: its event
 * ids, or its document id). recall@k is the fraction of a question's evidence ids covered by
 * the top k items; MRR uses the rank of the first item covering any evidence id (0 when none
 * does within the list).
 */

/** The evidence ids each retrieved item covers, best item first. */
export type RankedEvidence = ReadonlyArray<readonly string[]>;

export function recallAt(k: number, ranked: RankedEvidence, evidence: readonly string[]): number {
  if (evidence.length === 0) throw new Error('a question needs at least one evidence id');
  const wanted = new Set(evidence);
  const covered = new Set<string>();
  for (const ids of ranked.slice(0, k)) for (const id of ids) if (wanted.has(id)) covered.add(id);
  return covered.size / wanted.size;
}

export function reciprocalRank(ranked: RankedEvidence, evidence: readonly string[]): number {
  const wanted = new Set(evidence);
  const index = ranked.findIndex((ids) => ids.some((id) => wanted.has(id)));
  return index === -1 ? 0 : 1 / (index + 1);
}

export interface QuestionScore {
  recall5: number;
  recall10: number;
  mrr: number;
}

export function scoreQuestion(ranked: RankedEvidence, evidence: readonly string[]): QuestionScore {
  return {
    recall5: recallAt(5, ranked, evidence),
    recall10: recallAt(10, ranked, evidence),
    mrr: reciprocalRank(ranked, evidence),
  };
}

/** The mean of each metric over questions (zeros for none). */
export function meanScore(scores: readonly QuestionScore[]): QuestionScore {
  if (scores.length === 0) return { recall5: 0, recall10: 0, mrr: 0 };
  const sum = (pick: (s: QuestionScore) => number) => scores.reduce((total, s) => total + pick(s), 0);
  return {
    recall5: sum((s) => s.recall5) / scores.length,
    recall10: sum((s) => s.recall10) / scores.length,
    mrr: sum((s) => s.mrr) / scores.length,
  };
}

/** The evidence ids a memory covers: its events, or its document. */
export function evidenceOf(provenance: { eventIds: readonly string[]; documentId: string | null }): string[] {
  return provenance.documentId ? [...provenance.eventIds, provenance.documentId] : [...provenance.eventIds];
}
