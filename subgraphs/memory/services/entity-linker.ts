import { postInternal } from '../../../common/internal-client';
import type { EntityMention } from '../extraction/types';
import type { Scope } from '../storage/memory-store';

/** A memory's mentions, to be resolved to entities along its scope chain. */
export interface MentionsToResolve {
  key: string;
  scope: Scope;
  /** Scopes an existing entity may come from, most specific first. */
  chain: Scope[];
  mentions: EntityMention[];
}

export interface MemoryLinks {
  memoryId: string;
  memoryScope: Scope;
  documentId: string | null;
  entityIds: string[];
}

/**
 * Port to the entity subgraph for the pipeline's resolve stage and for forgetting: resolve
 * mentions to entity ids (registering new entities at the memory's scope), link memories to
 * them, and remove links of memories that are gone.
 */
export interface EntityLinker {
  resolve(orgId: string, items: readonly MentionsToResolve[]): Promise<Map<string, string[]>>;
  link(orgId: string, links: readonly MemoryLinks[]): Promise<void>;
  /** Returns how many links were removed. */
  unlink(orgId: string, memoryIds: readonly string[]): Promise<number>;
  /** Removes the links of an actor's memories and its private entities; returns links removed. */
  forgetActor(orgId: string, actorId: string): Promise<number>;
}

/** {@link EntityLinker} over the entity subgraph's internal routes, with a signed service identity. */
export class EntitySubgraphLinker implements EntityLinker {
  constructor(
    private readonly entityUrl: string,
    private readonly internalSecret: string,
  ) {}

  async resolve(orgId: string, items: readonly MentionsToResolve[]): Promise<Map<string, string[]>> {
    if (items.length === 0) return new Map();
    const { entityIds } = await this.post<{ entityIds: Record<string, string[]> }>('resolve', {
      orgId,
      items,
    });
    return new Map(Object.entries(entityIds));
  }

  async link(orgId: string, links: readonly MemoryLinks[]): Promise<void> {
    const useful = links.filter((link) => link.entityIds.length > 0);
    if (useful.length > 0) await this.post('link', { orgId, links: useful });
  }

  async unlink(orgId: string, memoryIds: readonly string[]): Promise<number> {
    if (memoryIds.length === 0) return 0;
    return (await this.post<{ removed: number }>('unlink', { orgId, memoryIds })).removed;
  }

  async forgetActor(orgId: string, actorId: string): Promise<number> {
    return (await this.post<{ removed: number }>('forget-actor', { orgId, actorId })).removed;
  }

  private post<T>(path: string, body: unknown): Promise<T> {
    return postInternal<T>(this.entityUrl, path, body, this.internalSecret, 'memory');
  }
}

/** The scope chain a memory's mentions resolve along: its own scope first, the org last. */
export function scopeChain(
  orgId: string,
  scope: Scope,
  roleId: string | null,
  teamId: string | null,
): Scope[] {
  const chain: Scope[] = [scope];
  if (scope.level === 'ACTOR') {
    if (roleId) chain.push({ level: 'ROLE', id: roleId });
    if (teamId) chain.push({ level: 'TEAM', id: teamId });
  }
  if (scope.level !== 'ORG') chain.push({ level: 'ORG', id: orgId });
  return chain;
}
