import DataLoader from 'dataloader';
import type { Identity } from '../../common/identity';
import type { Entity } from './graph/graph-store';
import type { EntityService } from './services/entity-service';

export interface EntityContext {
  identity: Identity;
  entities: EntityService;
  loaders: EntityLoaders;
}

/** Keys are `orgId\u0000id`: every read is scoped to the org the object belongs to. */
export interface EntityLoaders {
  entities: DataLoader<{ orgId: string; id: string }, Entity | null, string>;
  entitiesOfMemory: DataLoader<{ orgId: string; id: string }, Entity[], string>;
  memoriesOfEntity: DataLoader<{ orgId: string; id: string }, string[], string>;
}

const key = ({ orgId, id }: { orgId: string; id: string }) => `${orgId}\u0000${id}`;

/** Groups keys by org so each org is one store call (a request rarely spans more than one). */
function byOrg<T>(
  load: (orgId: string, ids: string[]) => Promise<Map<string, T>>,
  missing: T,
): DataLoader.BatchLoadFn<{ orgId: string; id: string }, T> {
  return async (keys) => {
    const orgs = new Map<string, string[]>();
    for (const { orgId, id } of keys) orgs.set(orgId, [...(orgs.get(orgId) ?? []), id]);
    const results = new Map<string, T>();
    for (const [orgId, ids] of orgs) {
      for (const [id, value] of await load(orgId, ids)) results.set(key({ orgId, id }), value);
    }
    return keys.map((k) => results.get(key(k)) ?? missing);
  };
}

/** One loader set per request: `_entities` with 50 Memory representations is one store call. */
export function createLoaders(entities: EntityService): EntityLoaders {
  return {
    entities: new DataLoader(
      byOrg<Entity | null>(
        async (orgId, ids) => new Map((await entities.getEntities(orgId, ids)).map((e) => [e.id, e])),
        null,
      ),
      { cacheKeyFn: key },
    ),
    entitiesOfMemory: new DataLoader(
      byOrg<Entity[]>((orgId, ids) => entities.entitiesOfMemories(orgId, ids), []),
      { cacheKeyFn: key },
    ),
    memoriesOfEntity: new DataLoader(
      byOrg<string[]>((orgId, ids) => entities.mentionsOf(orgId, ids), []),
      { cacheKeyFn: key },
    ),
  };
}
