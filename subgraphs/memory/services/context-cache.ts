import type { ContextCandidates } from '../storage/memory-store';

/**
 * In-process cache of the ORG part of context retrieval (seed 004 stage 4). Keys include the
 * org's context version read from Postgres, so a change of org context anywhere invalidates
 * every instance at once; entries also expire after the TTL. Bounded: the oldest entries go
 * first past `maxEntries`.
 */
export class ContextCache {
  private readonly entries = new Map<string, { value: ContextCandidates; expiresAt: number }>();

  constructor(
    /** 0 disables caching. @default 30 minutes */
    private readonly ttlMs: number = 30 * 60_000,
    private readonly maxEntries = 5_000,
  ) {}

  get enabled(): boolean {
    return this.ttlMs > 0;
  }

  get(key: string): ContextCandidates | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: ContextCandidates): void {
    if (!this.enabled) return;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expiresAt: Date.now() + this.ttlMs });
  }
}
