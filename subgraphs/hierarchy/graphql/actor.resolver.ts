import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { authorizeOrg } from '../../../common/authz';
import { decodeCursor, encodeCursor, pageSize } from '../../../common/pagination';
import { NotFoundError } from '../../../common/errors';
import type { HierarchyContext } from '../context';
import { existingOrg } from './org-scope';
import { toRole, toTeam } from './mappers';
import { Actor, ActorConnection, FirstArg, Role, Team, UpsertActorInput } from './types';

@Resolver(() => Actor)
export class ActorResolver {
  @Mutation(() => Actor, {
    description: 'Creates or updates an actor. Role and team are optional and must belong to the org.',
  })
  async upsertActor(
    @Arg('input', () => UpsertActorInput) input: UpsertActorInput,
    @Ctx() ctx: HierarchyContext,
  ): Promise<Actor> {
    const orgId = authorizeOrg(ctx.identity, input.orgId, 'upsertActor', 'write');
    return ctx.services.hierarchy.upsertActor({ ...input, orgId });
  }

  @Query(() => Actor, { description: 'One actor of an org.' })
  async actor(
    @Arg('actorId', () => ID) actorId: string,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: HierarchyContext,
  ): Promise<Actor> {
    const org = authorizeOrg(ctx.identity, orgId, 'actor', 'read');
    const actor = await ctx.loaders.actors.load({ orgId: org, actorId });
    if (!actor) throw new NotFoundError(`Actor "${actorId}" not found in org "${org}"`);
    return actor;
  }

  @Query(() => ActorConnection, { description: 'The actors of an org, oldest first.' })
  async actors(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Arg('first', FirstArg.type, FirstArg) first: number | undefined,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
    @Ctx() ctx: HierarchyContext,
  ): Promise<ActorConnection> {
    const org = await existingOrg(ctx, orgId, 'actors', 'read');
    const size = pageSize(first);
    const cursor = decodeCursor(after);
    const rows = await ctx.services.hierarchy.listActors(org, { first: size + 1, after: cursor });
    const nodes = rows.slice(0, size);
    const edges = nodes.map((node) => ({
      cursor: encodeCursor({ createdAt: node.createdAt, id: node.actorId }),
      node,
    }));
    return {
      nodes,
      edges,
      pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
    };
  }

  @FieldResolver(() => Role, { nullable: true })
  async role(@Root() actor: Actor, @Ctx() ctx: HierarchyContext): Promise<Role | null> {
    const node = actor.roleId ? await ctx.loaders.nodes.role.load(actor.roleId) : null;
    return node ? toRole(node) : null;
  }

  @FieldResolver(() => Team, { nullable: true })
  async team(@Root() actor: Actor, @Ctx() ctx: HierarchyContext): Promise<Team | null> {
    const node = actor.teamId ? await ctx.loaders.nodes.team.load(actor.teamId) : null;
    return node ? toTeam(node) : null;
  }
}

/** `_entities` resolution of Actor for the other subgraphs, batched and tenant-checked. */
export const actorReferenceResolvers = {
  Actor: {
    __resolveReference: async (reference: { actorId: string; orgId: string }, ctx: HierarchyContext) => {
      const { identity } = ctx;
      if (identity.kind === 'key' && identity.role !== 'platform' && identity.orgId !== reference.orgId)
        return null;
      return ctx.loaders.actors.load({ orgId: reference.orgId, actorId: reference.actorId });
    },
  },
};
