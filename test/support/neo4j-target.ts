import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../common/config';
import type {
  Entity,
  EntityQuery,
  GraphStore,
  Relationship,
  Scope,
  Subgraph,
} from '../../subgraphs/entity/graph/graph-store';
import { Neo4jGraphStore } from '../../subgraphs/entity/graph/neo4j-graph-store';

/**
 * The Neo4j entry of the graph-store contract suite (test/contract/graph-store.contract.test.ts)
 * and of test/contract/neo4j-graph-store.test.ts.
 *
 * `neo4jTarget()` is undefined when NEO4J_URL is not set (the suites then list every Neo4j
 * test as skipped, with the reason). Otherwise `start()` connects to NEO4J_URL (NEO4J_USER /
 * NEO4J_PASSWORD) and creates the schema; each `connect()` gives a Neo4jGraphStore on a driver
 * of its own. Every org id a test uses is prefixed with a prefix unique to this run (and the
 * prefix is taken off again in what the store returns), so runs sharing one server never meet,
 * and `close()` deletes the graph of every org the run touched.
 */

/** A started Neo4j backend: stores on drivers of their own, and the cleanup. */
export interface Neo4jBackend {
  /** The org id prefix of this run. */
  prefix: string;
  connect(): Promise<GraphStore>;
  close(): Promise<void>;
}

export interface Neo4jTarget {
  name: string;
  start(): Promise<Neo4jBackend>;
  /** start() and one connected store, for a suite that needs only one. */
  open(): Promise<{ store: GraphStore; close(): Promise<void> }>;
}

/** Connection settings of the test run's Neo4j, when NEO4J_URL is set. */
export function neo4jSettings(): { url: string; user: string; password: string } | undefined {
  return loadConfig(process.env).neo4j;
}

export function neo4jTarget(): Neo4jTarget | undefined {
  const settings = neo4jSettings();
  if (!settings) return undefined;
  const start = async (): Promise<Neo4jBackend> => {
    const prefix = `test-${randomBytes(6).toString('hex')}:`;
    const orgs = new Set<string>();
    const admin = new Neo4jGraphStore(settings);
    try {
      await admin.init();
    } catch (error) {
      await admin.close();
      throw error;
    }
    const stores = new Set<Neo4jGraphStore>();
    return {
      prefix,
      connect: async () => {
        const store = new Neo4jGraphStore(settings);
        stores.add(store);
        return prefixed(store, prefix, orgs, () => stores.delete(store));
      },
      close: async () => {
        try {
          for (const orgId of orgs) await admin.deleteOrg(orgId);
        } finally {
          for (const store of stores) await store.close();
          await admin.close();
        }
      },
    };
  };
  return {
    name: `Neo4jGraphStore (${settings.url})`,
    start,
    open: async () => {
      const backend = await start();
      try {
        return { store: await backend.connect(), close: () => backend.close() };
      } catch (error) {
        await backend.close();
        throw error;
      }
    },
  };
}

/**
 * The store with every org id prefixed on the way in and unprefixed on the way out. Only org
 * ids change: scope ids (including an ORG scope's id) are data, stored as given.
 */
function prefixed(store: GraphStore, prefix: string, orgs: Set<string>, onClose: () => void): GraphStore {
  const org = (orgId: string) => {
    // A missing org id stays missing, so the store's own check still refuses it.
    if (typeof orgId !== 'string' || orgId === '') return orgId;
    const full = `${prefix}${orgId}`;
    orgs.add(full);
    return full;
  };
  const strip = (orgId: string) => (orgId.startsWith(prefix) ? orgId.slice(prefix.length) : orgId);
  const entity = (e: Entity): Entity => ({ ...e, orgId: strip(e.orgId) });
  const relationship = (r: Relationship): Relationship => ({ ...r, orgId: strip(r.orgId) });
  const subgraph = (g: Subgraph): Subgraph => ({
    entities: g.entities.map(entity),
    relationships: g.relationships.map(relationship),
  });
  return {
    upsertEntities: async (orgId, entities) => (await store.upsertEntities(org(orgId), entities)).map(entity),
    upsertRelationships: async (orgId, relationships) =>
      (await store.upsertRelationships(org(orgId), relationships)).map(relationship),
    linkMentions: (orgId, mentions) => store.linkMentions(org(orgId), mentions),
    resolveNames: async (orgId, names, scopes) =>
      new Map(
        [...(await store.resolveNames(org(orgId), names, scopes))].map(([name, found]) => [
          name,
          found.map(entity),
        ]),
      ),
    getEntities: async (orgId, ids) => (await store.getEntities(org(orgId), ids)).map(entity),
    findEntities: async (orgId, query: EntityQuery) =>
      (await store.findEntities(org(orgId), query)).map(entity),
    neighbours: async (orgId, entityId, depth, scopes: readonly Scope[]) =>
      subgraph(await store.neighbours(org(orgId), entityId, depth, scopes)),
    shortestPath: async (orgId, fromId, toId, scopes) => {
      const path = await store.shortestPath(org(orgId), fromId, toId, scopes);
      return path && subgraph(path);
    },
    mentionsOf: (orgId, entityIds) => store.mentionsOf(org(orgId), entityIds),
    entitiesOfMemories: async (orgId, memoryIds) =>
      new Map(
        [...(await store.entitiesOfMemories(org(orgId), memoryIds))].map(([id, found]) => [
          id,
          found.map(entity),
        ]),
      ),
    deleteByMemories: (orgId, memoryIds) => store.deleteByMemories(org(orgId), memoryIds),
    deleteByActor: (orgId, actorId) => store.deleteByActor(org(orgId), actorId),
    deleteScope: (orgId, scope) => store.deleteScope(org(orgId), scope),
    deleteOrg: (orgId) => store.deleteOrg(org(orgId)),
    ping: () => store.ping(),
    close: async () => {
      onClose();
      await store.close();
    },
  };
}
