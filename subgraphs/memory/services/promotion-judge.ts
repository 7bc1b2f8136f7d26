import { UpstreamError } from '../../../common/errors';
import { answerSnippet, parseJsonAnswer } from '../../../common/llm/json-answer';
import type { LlmClient } from '../../../common/llm/llm-client';
import type { Embedder } from '../embedding/embedder';
import type { PromotionLevel } from '../storage/promotion-store';
import { dot } from './promotion-clustering';

/** One cluster of memories shared by several members of a level, to be judged for the level above. */
export interface JudgeRequest {
  /** The level the cluster would be promoted to. */
  level: PromotionLevel;
  /** Name of the role, team or org (when the hierarchy gave one). */
  targetName: string | null;
  /** The target level's promotion prompt (seed 000: it says what matters at that scope). */
  promotionPrompt: string;
  /** The target level's focus. */
  focus: string | null;
  /** The cluster's statements, most central first. */
  members: ReadonlyArray<{ content: string; supporter: string }>;
  /** The cluster's direction (normalised mean of its vectors). */
  centroid: Float32Array;
  /** Distinct supporters (actors, or roles and teams for the org). */
  support: number;
  minSupport: number;
  /** The org's threshold on the score. */
  minScore: number;
}

export interface Judgement {
  promote: boolean;
  /** 0–1. */
  score: number;
  /** The generalised statement to store at the target scope. */
  statement: string;
  /** Why, in a sentence a reviewer can check. */
  reason: string;
}

/**
 * Port of the promotion judge: decides, for one cluster, whether it matters at the level
 * above, judged against that level's promotion prompt, and what the promoted memory says.
 * {@link LlmPromotionJudge} when an LLM is configured, {@link DeterministicPromotionJudge} otherwise.
 */
export interface PromotionJudge {
  /** `deterministic` or `llm:<model>`, recorded on every proposal and promoted memory. */
  readonly id: string;
  judge(request: JudgeRequest): Promise<Judgement>;
}

/** At most this much of a score comes from support beyond the minimum. */
const SUPPORT_BONUS = 0.1;

/**
 * Without a model: relevance of the cluster to the target level, as the cosine similarity of
 * the cluster's centroid to the level's focus and to its promotion prompt (the higher of the
 * two: a template prompt carries the focus in boilerplate), plus a bonus for support beyond
 * the minimum (up to +0.1 at twice the minimum), so support can tip a borderline cluster but
 * never carry an irrelevant one. The statement is the most central member, verbatim.
 *
 * Measured with the embedded encoder against an org focused on "B2B SaaS company building
 * developer tools": a cluster about testing against Postgres scores 0.42–0.46 relevance, one
 * about API docs or the CLI 0.44–0.56, code-review turnaround 0.33–0.37, dark mode 0.16–0.26,
 * lunch preferences 0.02–0.10. The default threshold 0.3 keeps work practices and drops lunch.
 */
export class DeterministicPromotionJudge implements PromotionJudge {
  readonly id = 'deterministic';
  private readonly vectors = new Map<string, Promise<Float32Array>>();

  constructor(private readonly embedder: Embedder) {}

  async judge(request: JudgeRequest): Promise<Judgement> {
    const targets = [request.focus, request.promotionPrompt].filter(
      (text): text is string => typeof text === 'string' && text.trim() !== '',
    );
    const similarities = await Promise.all(
      targets.map(async (text) => dot(request.centroid, await this.vector(text))),
    );
    const relevance = Math.max(0, ...similarities);
    const extra = Math.max(0, request.support - request.minSupport) / request.minSupport;
    const bonus = SUPPORT_BONUS * Math.min(1, extra);
    const score = round(Math.min(1, relevance + bonus));
    const promote = score >= request.minScore;
    return {
      promote,
      score,
      statement: request.members[0]!.content,
      reason:
        `relevance ${relevance.toFixed(2)} to the ${label(request.level)}'s focus and promotion prompt` +
        ` + support bonus ${bonus.toFixed(2)} (${request.support} supporters, minimum ${request.minSupport})` +
        ` = ${score.toFixed(2)} ${promote ? '≥' : '<'} ${request.minScore.toFixed(2)}`,
    };
  }

  private vector(text: string): Promise<Float32Array> {
    let vector = this.vectors.get(text);
    if (!vector) {
      vector = this.embedder.embed([text]).then(([v]) => v!);
      vector.catch(() => this.vectors.delete(text));
      if (this.vectors.size > 1000) this.vectors.clear();
      this.vectors.set(text, vector);
    }
    return vector;
  }
}

/** Bump when the instructions change. */
export const PROMOTION_JUDGE_PROMPT_VERSION = 'promote-v1';

const SYSTEM_PROMPT = [
  'You decide whether a memory shared by several members of an organisation should be promoted to a',
  'higher scope (a role, a team or the whole organisation) of an AI agent memory store.',
  'You are given the promotion prompt of that scope (it says what matters there), its focus, and the',
  'statements several members made that say the same thing.',
  'Promote only what matters at that scope according to its promotion prompt and focus; reject',
  'anything personal, one-off or irrelevant to it. When you promote, write ONE generalised,',
  'self-contained statement for the scope (third person, no "I"), keeping names, numbers and versions exact.',
  'Answer with JSON only (no prose, no code fences), exactly in this shape:',
  '{"promote": true, "statement": "...", "score": 0.0, "reason": "..."}',
  'score: your confidence from 0 to 1 that it belongs at this scope.',
].join('\n');

/**
 * The judge on a chat model: the prompt carries the target level's promotion prompt and
 * focus, the support, and the members' statements; the model decides and writes the
 * generalised statement. The answer is validated like the LLM extractor's: JSON, optionally in
 * fences or surrounded by prose; not JSON or no boolean `promote`: {@link UpstreamError}
 * quoting the start of the answer; a promotion without a statement falls back to the most
 * central member; a missing or out-of-range score becomes 1 (promote) or 0 (reject), clamped.
 */
export class LlmPromotionJudge implements PromotionJudge {
  readonly id: string;

  constructor(private readonly llm: LlmClient) {
    this.id = `llm:${llm.model}`;
  }

  async judge(request: JudgeRequest): Promise<Judgement> {
    const answer = await this.llm.chat({
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: buildJudgePrompt(request) },
      ],
      temperature: 0,
      maxTokens: 400,
    });
    return parseJudgement(answer.content, request);
  }
}

/** The user message of the LLM judge. */
export function buildJudgePrompt(request: JudgeRequest): string {
  const scope = `${label(request.level)}${request.targetName ? ` "${request.targetName}"` : ''}`;
  return [
    `Target scope: ${scope}`,
    `[${capitalised(label(request.level))} promotion prompt]\n${request.promotionPrompt.trim() || '(none)'}`,
    `Focus: ${request.focus?.trim() || '(none given)'}`,
    `Support: ${request.support} distinct ${request.level === 'ORG' ? 'roles and teams' : 'members'} (minimum ${request.minSupport})`,
    `Statements:\n${request.members.map((member) => `- ${member.content}`).join('\n')}`,
  ].join('\n\n');
}

export function parseJudgement(answer: string, request: JudgeRequest): Judgement {
  const json = parseJsonAnswer(answer, 'LLM promotion judge');
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UpstreamError(`LLM promotion judge: the answer is not a JSON object: ${answerSnippet(answer)}`);
  const record = json as Record<string, unknown>;
  if (typeof record.promote !== 'boolean')
    throw new UpstreamError(
      `LLM promotion judge: the answer has no boolean "promote": ${answerSnippet(answer)}`,
    );
  const statement =
    typeof record.statement === 'string' && record.statement.trim() !== ''
      ? record.statement.replace(/\s+/g, ' ').trim()
      : request.members[0]!.content;
  const raw = typeof record.score === 'number' && Number.isFinite(record.score) ? record.score : NaN;
  const score = round(Number.isNaN(raw) ? (record.promote ? 1 : 0) : Math.min(1, Math.max(0, raw)));
  const reason =
    typeof record.reason === 'string' && record.reason.trim() !== ''
      ? record.reason.trim()
      : record.promote
        ? 'the model promoted it'
        : 'the model rejected it';
  return { promote: record.promote, score, statement, reason };
}

function label(level: PromotionLevel): string {
  return level === 'ORG' ? 'organisation' : level.toLowerCase();
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}
