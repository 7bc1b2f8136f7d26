import type { GraphQLResponse, TestStack } from './stack';

/** Every scalar field of an Entity, with its scope. */
export const ENTITY_FIELDS = 'id orgId name type aliases scope { level id } createdAt';

/** Every field of a Relationship. */
export const RELATIONSHIP_FIELDS = 'id type fromId toId memoryId createdAt';

/** Every field of an EntityGraph (entities with their scalar fields, relationships). */
export const GRAPH_FIELDS = `entities { ${ENTITY_FIELDS} } relationships { ${RELATIONSHIP_FIELDS} }`;

export interface EntityData {
  id: string;
  orgId: string;
  name: string;
  type: string;
  aliases: string[];
  scope: { level: string; id: string };
  createdAt: string;
}

export interface RelationshipData {
  id: string;
  type: string;
  fromId: string;
  toId: string;
  memoryId: string | null;
  createdAt: string;
}

export interface GraphData {
  entities: EntityData[];
  relationships: RelationshipData[];
}

export interface EntityFilter {
  orgId?: string;
  search?: string;
  type?: string;
  scope?: { level: string; id: string };
}

export const ENTITIES_QUERY = `query($orgId: ID, $search: String, $type: String, $scope: ScopeInput, $first: Int,
  $after: String) {
  entities(orgId: $orgId, search: $search, type: $type, scope: $scope, first: $first, after: $after) {
    nodes { ${ENTITY_FIELDS} }
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

export const ENTITY_QUERY = `query($orgId: ID, $id: ID!) { entity(orgId: $orgId, id: $id) { ${ENTITY_FIELDS} } }`;

export const NEIGHBOURS_QUERY = `query($orgId: ID, $id: ID!, $depth: Int!, $scopes: [ScopeInput!]) {
  neighbours(orgId: $orgId, entityId: $id, depth: $depth, scopes: $scopes) { ${GRAPH_FIELDS} }
}`;

export const PATH_QUERY = `query($orgId: ID, $from: ID!, $to: ID!, $scopes: [ScopeInput!]) {
  path(orgId: $orgId, fromId: $from, toId: $to, scopes: $scopes) { ${GRAPH_FIELDS} }
}`;

function check<T>(response: GraphQLResponse<T>, what: string): T {
  if (response.errors || !response.data)
    throw new Error(`${what} failed: ${JSON.stringify(response.errors)}`);
  return response.data;
}

/**
 * Every entity matching `filter`, oldest first, all pages walked with `first` per page;
 * throws on an error.
 */
export async function listEntities(
  stack: TestStack,
  key: string,
  filter: EntityFilter = {},
  first = 500,
): Promise<EntityData[]> {
  const all: EntityData[] = [];
  let after: string | null = null;
  for (;;) {
    const data: {
      entities: { nodes: EntityData[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    } = check(await stack.gql(ENTITIES_QUERY, { ...filter, first, after }, key), 'entities');
    all.push(...data.entities.nodes);
    if (!data.entities.pageInfo.hasNextPage) return all;
    after = data.entities.pageInfo.endCursor;
  }
}

/** Finds the one entity of the key's org named exactly `name` (case-insensitive); throws otherwise. */
export async function entityNamed(stack: TestStack, key: string, name: string): Promise<EntityData> {
  const found = (await listEntities(stack, key, { search: name })).filter(
    (entity) => entity.name.toLowerCase() === name.toLowerCase(),
  );
  if (found.length !== 1) throw new Error(`expected one entity named ${name}, got ${JSON.stringify(found)}`);
  return found[0]!;
}

const SNAPSHOT_ENTITIES = `query($first: Int, $after: String) {
  entities(first: $first, after: $after) {
    nodes { ${ENTITY_FIELDS} memories(first: 500) { id } relationships { ${GRAPH_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const SNAPSHOT_MEMORIES = `query($first: Int, $after: String) {
  memories(includeClosed: true, first: $first, after: $after) {
    nodes { id orgId content entities { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function allPages<T>(stack: TestStack, key: string, query: string, field: string): Promise<T[]> {
  const all: T[] = [];
  let after: string | null = null;
  for (;;) {
    const data = check(await stack.gql(query, { first: 500, after }, key), field) as Record<
      string,
      { nodes: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }
    >;
    all.push(...data[field]!.nodes);
    if (!data[field]!.pageInfo.hasNextPage) return all;
    after = data[field]!.pageInfo.endCursor;
  }
}

/**
 * Everything of the key's org the entity graph shows: every entity with the memories that
 * mention it and its direct relationships, and every memory (closed ones too) with its
 * entities. Two snapshots are equal only when nothing of the org's graph changed.
 */
export async function snapshotEntityGraph(stack: TestStack, key: string) {
  const entities = await allPages<{ relationships: GraphData }>(stack, key, SNAPSHOT_ENTITIES, 'entities');
  const memories = await allPages<Record<string, unknown>>(stack, key, SNAPSHOT_MEMORIES, 'memories');
  // Traversal results have no documented order: sort them so equal graphs compare equal.
  for (const entity of entities) {
    entity.relationships.entities.sort(byId);
    entity.relationships.relationships.sort(byId);
  }
  return { entities, memories };
}

const byId = (x: { id: string }, y: { id: string }) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
