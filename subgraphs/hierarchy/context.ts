import DataLoader from 'dataloader';
import type { Identity } from '../../common/identity';
import type { ApiKeyService } from './services/api-key-service';
import type { HierarchyService } from './services/hierarchy-service';
import type { Actor, ActorKey, HierarchyNode, Level } from './storage/hierarchy-store';

export interface HierarchyServices {
  hierarchy: HierarchyService;
  apiKeys: ApiKeyService;
}

/** Per-request context: the verified identity, the services, and this request's loaders. */
export interface HierarchyContext {
  identity: Identity;
  services: HierarchyServices;
  loaders: HierarchyLoaders;
}

export interface HierarchyLoaders {
  nodes: Record<Level, DataLoader<string, HierarchyNode | null>>;
  /** Roles / teams of an org, for `Org.roles` and `Org.teams`. */
  childrenOfOrg: Record<'role' | 'team', DataLoader<string, HierarchyNode[]>>;
  actors: DataLoader<ActorKey, Actor | null, string>;
}

/** Upper bound of `Org.roles` / `Org.teams`; the top-level `roles` / `teams` queries paginate. */
const CHILDREN_LIMIT = 1000;

/** One loader set per request (graphql/dataloader README): batches `_entities` and nested fields. */
export function createLoaders(services: HierarchyServices): HierarchyLoaders {
  const nodeLoader = (level: Level) =>
    new DataLoader<string, HierarchyNode | null>(async (ids) => {
      const byId = new Map((await services.hierarchy.getNodes(level, ids)).map((node) => [node.id, node]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  const childLoader = (level: 'role' | 'team') =>
    new DataLoader<string, HierarchyNode[]>(async (orgIds) => {
      const nodes = await services.hierarchy.listNodes(
        level,
        { first: CHILDREN_LIMIT * orgIds.length },
        orgIds,
      );
      return orgIds.map((orgId) => nodes.filter((node) => node.orgId === orgId).slice(0, CHILDREN_LIMIT));
    });
  return {
    nodes: { org: nodeLoader('org'), role: nodeLoader('role'), team: nodeLoader('team') },
    childrenOfOrg: { role: childLoader('role'), team: childLoader('team') },
    actors: new DataLoader<ActorKey, Actor | null, string>(
      async (keys) => {
        const actors = await services.hierarchy.getActors(keys);
        const byKey = new Map(actors.map((actor) => [actorKey(actor), actor]));
        return keys.map((key) => byKey.get(actorKey(key)) ?? null);
      },
      { cacheKeyFn: actorKey },
    ),
  };
}

function actorKey(key: ActorKey): string {
  return `${key.orgId}\u0000${key.actorId}`;
}
