import { Arg, Ctx, Directive, FieldResolver, ID, Int, Query, Resolver, Root } from 'type-graphql';
import { authorizeOrg } from '../../../common/authz';
import { BadUserInputError, NotFoundError } from '../../../common/errors';
import type { Identity } from '../../../common/identity';
import { decodeCursor, encodeCursor, pageSize } from '../../../common/pagination';
import type { EntityContext } from '../context';
import type { EntityType, Scope as ScopeModel } from '../graph/graph-store';
import { Entity, EntityConnection, EntityGraph, Memory, ScopeInput } from './types';

function canSeeOrg(identity: Identity, orgId: string): boolean {
  return identity.kind === 'service' || identity.role === 'platform' || identity.orgId === orgId;
}

const toEntity = (entity: { id: string }) => entity as unknown as Entity;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An `after` cursor of `entities`: entity ids are UUIDs in every adapter, so anything else is not ours. */
function entityCursor(after: string | undefined) {
  const cursor = decodeCursor(after);
  if (cursor && !UUID.test(cursor.id)) {
    throw new BadUserInputError('after is not a cursor this API returned', { field: 'after' });
  }
  return cursor;
}

@Resolver(() => Entity)
export class EntityResolver {
  @Query(() => Entity)
  async entity(
    @Arg('id', () => ID) id: string,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: EntityContext,
  ): Promise<Entity> {
    const org = authorizeOrg(ctx.identity, orgId, 'entity', 'read');
    const entity = await ctx.loaders.entities.load({ orgId: org, id });
    if (!entity) throw new NotFoundError(`Entity "${id}" not found`);
    return toEntity(entity);
  }

  @Query(() => EntityConnection, {
    description: 'Entities of an org, oldest first, by name/alias substring, type or scope.',
  })
  async entities(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Arg('search', () => String, { nullable: true }) search: string | undefined,
    @Arg('type', () => String, { nullable: true }) type: string | undefined,
    @Arg('scope', () => ScopeInput, { nullable: true }) scope: ScopeInput | undefined,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
    @Ctx() ctx: EntityContext,
  ): Promise<EntityConnection> {
    const org = authorizeOrg(ctx.identity, orgId, 'entities', 'read');
    const size = pageSize(first);
    const rows = await ctx.entities.findEntities(org, {
      search: search || undefined,
      type: (type as EntityType) || undefined,
      scopes: scope ? [scope as ScopeModel] : undefined,
      first: size + 1,
      after: entityCursor(after),
    });
    const page = rows.slice(0, size);
    const edges = page.map((node) => ({
      cursor: encodeCursor({ createdAt: node.createdAt, id: node.id }),
      node: toEntity(node),
    }));
    return {
      nodes: edges.map((edge) => edge.node),
      edges,
      pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @Query(() => EntityGraph, {
    description: 'Entities up to `depth` (1–3) hops away, with the relationships between them.',
  })
  async neighbours(
    @Arg('entityId', () => ID) entityId: string,
    @Arg('depth', () => Int, { defaultValue: 1 }) depth: number,
    @Arg('scopes', () => [ScopeInput], {
      nullable: true,
      description: 'Only pass through entities of these scopes.',
    })
    scopes: ScopeInput[] | undefined,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: EntityContext,
  ): Promise<EntityGraph> {
    const org = authorizeOrg(ctx.identity, orgId, 'neighbours', 'read');
    return (await ctx.entities.neighbours(
      org,
      entityId,
      depth,
      scopes as ScopeModel[] | undefined,
    )) as unknown as EntityGraph;
  }

  @Query(() => EntityGraph, {
    nullable: true,
    description: 'A shortest path between two entities (at most 6 hops); null when none.',
  })
  async path(
    @Arg('fromId', () => ID) fromId: string,
    @Arg('toId', () => ID) toId: string,
    @Arg('scopes', () => [ScopeInput], {
      nullable: true,
      description: 'Only pass through entities of these scopes.',
    })
    scopes: ScopeInput[] | undefined,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: EntityContext,
  ): Promise<EntityGraph | null> {
    const org = authorizeOrg(ctx.identity, orgId, 'path', 'read');
    return (await ctx.entities.path(
      org,
      fromId,
      toId,
      scopes as ScopeModel[] | undefined,
    )) as unknown as EntityGraph | null;
  }

  @FieldResolver(() => [Memory], { description: 'Memories that mention this entity.' })
  async memories(
    @Root() entity: Entity,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Ctx() ctx: EntityContext,
  ): Promise<Array<{ id: string }>> {
    const ids = await ctx.loaders.memoriesOfEntity.load({ orgId: entity.orgId, id: entity.id });
    return ids.slice(0, pageSize(first)).map((id) => ({ id }));
  }

  @FieldResolver(() => EntityGraph, { description: 'Direct relationships of this entity (one hop).' })
  async relationships(@Root() entity: Entity, @Ctx() ctx: EntityContext): Promise<EntityGraph> {
    return (await ctx.entities.neighbours(entity.orgId, entity.id, 1)) as unknown as EntityGraph;
  }
}

@Resolver(() => Memory)
export class MemoryEntitiesResolver {
  @Directive('@requires(fields: "orgId")')
  @FieldResolver(() => [Entity], {
    description: 'Entities this memory mentions, resolved along its scope chain.',
  })
  async entities(@Root() memory: Memory, @Ctx() ctx: EntityContext): Promise<Entity[]> {
    if (!canSeeOrg(ctx.identity, memory.orgId)) return [];
    return (await ctx.loaders.entitiesOfMemory.load({ orgId: memory.orgId, id: memory.id })).map(toEntity);
  }
}

/** `_entities` for Entity (tenant-checked through the loader's org) and Memory (a stub with its orgId). */
export const entityReferenceResolvers = {
  Entity: {
    __resolveReference: async (reference: { id: string }, ctx: EntityContext) => {
      const { identity } = ctx;
      if (identity.kind !== 'key' || !identity.orgId) return null; // platform/service: no org to read in
      return ctx.loaders.entities.load({ orgId: identity.orgId, id: reference.id });
    },
  },
  Memory: {
    __resolveReference: (reference: { id: string; orgId?: string }) => reference,
  },
};
