import type { Embedder } from '../embedding/embedder';
import type { ContextCandidates, Memory, MemoryStore, Scope, ScopeLevel } from '../storage/memory-store';
import { ContextCache } from './context-cache';
import { contradicts } from './organizer';
import { collapsePromotedCopies } from './promotion-dedup';

export interface ContextRequest {
  orgId: string;
  actorId: string;
  roleId: string | null;
  teamId: string | null;
  query: string;
  /** Items to return. @default 8 */
  limit?: number | null;
  /** Token budget of the packed text (≈ 4 characters a token); items beyond it are left out. */
  maxTokens?: number | null;
  /** Levels to search; all of the actor's chain by default. */
  scopes?: ScopeLevel[] | null;
  /** Memories valid at this instant. @default now */
  asOf?: Date | null;
  /** Retrieval signals to fuse (the eval compares them). @default all three */
  signals?: readonly RetrievalSignal[];
}

export type RetrievalSignal = 'vector' | 'lexical' | 'entity';

export interface ContextItem {
  memory: Memory;
  score: number;
  scope: Scope;
  explanation: string;
  overriddenBy: string | null;
}

export interface ContextResult {
  items: ContextItem[];
  text: string;
  cached: boolean;
  tookMs: number;
}

/** Reciprocal-rank fusion constant and per-signal weights: the lexical list leads (DESIGN.md 8). */
const RRF_K = 60;
const WEIGHTS = { lexical: 1.0, vector: 0.8, entity: 0.5 } as const;
/** Within comparable relevance, the more specific scope ranks first. */
const SCOPE_WEIGHT: Record<ScopeLevel, number> = {
  ACTOR: 1.0,
  ROLE: 0.97,
  TEAM: 0.94,
  ORG: 0.91,
  WORLD: 0.88,
};
const SPECIFICITY: Record<ScopeLevel, number> = { ACTOR: 0, ROLE: 1, TEAM: 2, ORG: 3, WORLD: 4 };
/**
 * Recency: a memory valid since today gets up to +5 %, halving every 30 days, so among
 * comparable candidates the newer one leads; it never outweighs a clear relevance gap.
 */
const RECENCY_BOOST = 0.05;
const RECENCY_HALF_LIFE_DAYS = 30;
export function recencyFactor(ageDays: number): number {
  return 1 + RECENCY_BOOST * 0.5 ** (ageDays / RECENCY_HALF_LIFE_DAYS);
}
/** Candidates per signal. */
const CANDIDATES = 40;
/** Two memories this similar are about the same subject (for overrides). */
const SAME_SUBJECT = 0.55;

/**
 * The scope-chain merge (seed 004, "Retrieval — Scope Chain Merge"): candidates from the
 * actor's own scope, its role, its team and the org, found by vector similarity, full-text
 * search (an OR of the query's words) and entity mentions named in the query, fused by
 * weighted reciprocal rank, weighted by scope, and explained. When a more specific memory
 * contradicts a more general one about the same subject, both are returned, the specific one
 * first, and the general one names it in `overriddenBy`.
 */
export class ContextService {
  constructor(
    private readonly store: MemoryStore,
    private readonly embedder: Embedder,
    private readonly cache: ContextCache = new ContextCache(0),
  ) {}

  async retrieve(request: ContextRequest): Promise<ContextResult> {
    const started = performance.now();
    const limit = Math.min(Math.max(request.limit ?? 8, 1), 50);
    const asOf = request.asOf ?? new Date();
    const chain = scopeChainFor(request).filter(
      (scope) => !request.scopes || request.scopes.includes(scope.level),
    );
    const [queryVector] = await this.embedder.embed([request.query]);
    const search = {
      orgId: request.orgId,
      embeddingModel: this.embedder.modelId,
      queryVector: queryVector!,
      lexicalQuery: lexicalQuery(request.query),
      entityNames: queryPhrases(request.query),
      asOf,
      limit: CANDIDATES,
    };
    // The org part (the same for every actor of the org) comes from the cache when the org
    // context has not changed since; the actor's own, role and team parts are always live. On
    // a miss, one statement searches the whole chain and its ORG part is cached.
    const hasOrg = chain.some((scope) => scope.level === 'ORG');
    const cacheable = hasOrg && this.cache.enabled && !request.asOf;
    const key = cacheable
      ? `${request.orgId}\u0000${await this.store.orgContextVersion(request.orgId)}\u0000${this.embedder.modelId}\u0000${request.query}`
      : '';
    const orgHit = cacheable ? this.cache.get(key) : undefined;
    const searched = orgHit ? chain.filter((scope) => scope.level !== 'ORG') : chain;
    const found =
      searched.length > 0 ? await this.store.searchContext({ ...search, scopes: searched }) : EMPTY;
    if (cacheable && !orgHit) this.cache.set(key, onlyLevel(found, 'ORG'));
    const candidates = onlySignals(
      topOf(orgHit ? mergeCandidates(found, withoutExpired(orgHit, new Date())) : found, CANDIDATES),
      request.signals,
    );
    const cached = orgHit !== undefined;

    const fused = new Map<string, { score: number; why: string[] }>();
    const add = (id: string, weight: number, rank: number, why: string) => {
      const entry = fused.get(id) ?? { score: 0, why: [] };
      entry.score += weight / (RRF_K + rank);
      entry.why.push(why);
      fused.set(id, entry);
    };
    candidates.lexical.forEach((hit, i) => add(hit.id, WEIGHTS.lexical, i + 1, `lexical #${i + 1}`));
    candidates.vector.forEach((hit, i) =>
      add(
        hit.id,
        WEIGHTS.vector,
        i + 1,
        `vector #${i + 1} (similarity ${hit.similarity.toFixed(2)}${hit.approximate ? ', HNSW' : ''})`,
      ),
    );
    candidates.entity.forEach((hit) => add(hit.id, WEIGHTS.entity, 1, `entity ${hit.names.join(', ')}`));

    const best = (WEIGHTS.lexical + WEIGHTS.vector + WEIGHTS.entity) / (RRF_K + 1);
    const memories = candidates.memories;
    let ranked = [...fused.entries()]
      .flatMap(([id, entry]) => {
        const memory = memories.get(id);
        if (!memory) return [];
        const weight = SCOPE_WEIGHT[memory.scope.level];
        const ageDays = Math.max(0, (asOf.getTime() - memory.validFrom.getTime()) / 86_400_000);
        const recency = recencyFactor(ageDays);
        const score = (entry.score / best) * weight * recency;
        return [
          {
            memory,
            score,
            why: [
              ...entry.why,
              `scope ${memory.scope.level} ×${weight.toFixed(2)}`,
              `recency ×${recency.toFixed(3)} (${ageDays < 1 ? 'under a day' : `${Math.round(ageDays)} days`} old)`,
            ],
          },
        ];
      })
      .sort(
        (a, b) => b.score - a.score || SPECIFICITY[a.memory.scope.level] - SPECIFICITY[b.memory.scope.level],
      );
    // Issue 6: an actor never gets its own memory and a promoted copy of it as two items.
    ranked = collapsePromotedCopies(ranked).slice(0, limit);

    const overrides = await this.overrides(ranked.map((item) => item.memory));
    ranked = placeAfterOverriders(ranked, overrides);

    const items: ContextItem[] = [];
    const lines: string[] = [];
    let tokens = 0;
    for (const item of ranked) {
      const line = `[${item.memory.scope.level}] ${item.memory.content}`;
      const cost = Math.ceil(line.length / 4);
      if (request.maxTokens && tokens + cost > request.maxTokens) break;
      tokens += cost;
      lines.push(line);
      const overriddenBy = overrides.get(item.memory.id) ?? null;
      items.push({
        memory: item.memory,
        score: Number(item.score.toFixed(4)),
        scope: item.memory.scope,
        overriddenBy,
        explanation: [
          ...item.why,
          ...(overriddenBy ? [`overridden by ${overriddenBy} (more specific scope)`] : []),
        ].join('; '),
      });
    }
    return {
      items,
      text: lines.join('\n'),
      cached,
      tookMs: Number((performance.now() - started).toFixed(2)),
    };
  }

  /** General memory id → the most specific memory that contradicts it about the same subject. */
  private async overrides(memories: readonly Memory[]): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    // Only a more specific scope overrides: one level alone needs no similarity.
    if (new Set(memories.map((memory) => memory.scope.level)).size < 2) return result;
    const similarity = await this.store.pairwiseSimilarity(memories.map((memory) => memory.id));
    const bySpecificity = [...memories].sort(
      (a, b) => SPECIFICITY[a.scope.level] - SPECIFICITY[b.scope.level],
    );
    for (const general of bySpecificity) {
      for (const specific of bySpecificity) {
        if (SPECIFICITY[specific.scope.level] >= SPECIFICITY[general.scope.level]) break;
        const sim = similarity.get(pairKey(general.id, specific.id)) ?? 0;
        // `contradicts` covers a different value or a negation too.
        if (sim >= SAME_SUBJECT && contradicts(general.content, specific.content)) {
          result.set(general.id, specific.id);
          break;
        }
      }
    }
    return result;
  }
}

const EMPTY: ContextCandidates = { vector: [], lexical: [], entity: [], memories: new Map() };

/** Merges two scopes' candidate lists (ordered by {@link topOf}). */
function mergeCandidates(a: ContextCandidates, b: ContextCandidates): ContextCandidates {
  return {
    vector: [...a.vector, ...b.vector],
    lexical: [...a.lexical, ...b.lexical],
    entity: [...a.entity, ...b.entity],
    memories: new Map([...a.memories, ...b.memories]),
  };
}

/** Keeps the candidates matching `keep`, in order. */
function filterCandidates(
  candidates: ContextCandidates,
  keep: (memory: Memory) => boolean,
): ContextCandidates {
  const kept = (id: string) => {
    const memory = candidates.memories.get(id);
    return memory !== undefined && keep(memory);
  };
  return {
    vector: candidates.vector.filter((hit) => kept(hit.id)),
    lexical: candidates.lexical.filter((hit) => kept(hit.id)),
    entity: candidates.entity.filter((hit) => kept(hit.id)),
    memories: new Map([...candidates.memories].filter(([, memory]) => keep(memory))),
  };
}

/** The candidates of one scope level (the part of a chain's search that can be cached). */
function onlyLevel(candidates: ContextCandidates, level: ScopeLevel): ContextCandidates {
  return filterCandidates(candidates, (memory) => memory.scope.level === level);
}

/** Cached candidates may have expired since they were cached. */
function withoutExpired(candidates: ContextCandidates, now: Date): ContextCandidates {
  return filterCandidates(candidates, (memory) => !memory.expiresAt || memory.expiresAt > now);
}

/**
 * The best `limit` of each signal over all scopes (the store returns the best per scope). Ties
 * (common in full-text ranks) break by id, so a result is the same whether or not its org
 * part came from the cache.
 */
function topOf(candidates: ContextCandidates, limit: number): ContextCandidates {
  const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return {
    vector: [...candidates.vector].sort((a, b) => b.similarity - a.similarity || byId(a, b)).slice(0, limit),
    lexical: [...candidates.lexical].sort((a, b) => b.rank - a.rank || byId(a, b)).slice(0, limit),
    entity: [...candidates.entity]
      .sort((a, b) => b.names.length - a.names.length || byId(a, b))
      .slice(0, limit),
    memories: candidates.memories,
  };
}

function onlySignals(
  candidates: ContextCandidates,
  signals: readonly RetrievalSignal[] | undefined,
): ContextCandidates {
  if (!signals) return candidates;
  return {
    vector: signals.includes('vector') ? candidates.vector : [],
    lexical: signals.includes('lexical') ? candidates.lexical : [],
    entity: signals.includes('entity') ? candidates.entity : [],
    memories: candidates.memories,
  };
}

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/** Orders each overridden memory right after the memory that overrides it, when it ranked above. */
function placeAfterOverriders<T extends { memory: Memory }>(
  ranked: T[],
  overrides: Map<string, string>,
): T[] {
  const result = [...ranked];
  for (const [general, specific] of overrides) {
    const g = result.findIndex((item) => item.memory.id === general);
    const s = result.findIndex((item) => item.memory.id === specific);
    if (g !== -1 && s !== -1 && g < s) {
      const [moved] = result.splice(g, 1);
      result.splice(s, 0, moved!);
    }
  }
  return result;
}

function scopeChainFor(request: ContextRequest): Scope[] {
  const chain: Scope[] = [{ level: 'ACTOR', id: request.actorId }];
  if (request.roleId) chain.push({ level: 'ROLE', id: request.roleId });
  if (request.teamId) chain.push({ level: 'TEAM', id: request.teamId });
  chain.push({ level: 'ORG', id: request.orgId });
  return chain;
}

const STOP = new Set(
  'a an the is are was were be to of in on for with at by and or but it this that what which who how do does did can my our your i we you'.split(
    ' ',
  ),
);

/** An OR query of the query's content words (Postgres `to_tsquery` syntax), not the default AND. */
export function lexicalQuery(query: string): string {
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 1 && !STOP.has(word));
  return [...new Set(words)].join(' | ');
}

/** Word n-grams (1–3) of the query, normalised like entity mention names. */
export function queryPhrases(query: string): string[] {
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  const phrases = new Set<string>();
  for (let n = 1; n <= 3; n++) {
    for (let i = 0; i + n <= words.length; i++) {
      const phrase = words.slice(i, i + n).join(' ');
      if (n > 1 || !STOP.has(phrase)) phrases.add(phrase);
    }
  }
  return [...phrases];
}
