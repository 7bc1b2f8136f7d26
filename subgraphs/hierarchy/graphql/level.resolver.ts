import { Arg, Ctx, ID, Mutation, Query, Resolver, type ClassType } from 'type-graphql';
import { authorizeOrg } from '../../../common/authz';
import { pageSize } from '../../../common/pagination';
import type { HierarchyContext } from '../context';
import { existingOrg } from './org-scope';
import type { HierarchyNode } from '../storage/hierarchy-store';
import { toRole, toTeam } from './mappers';
import { CreateLevelInput, FirstArg, Role, Team, UpdateHierarchyInput } from './types';

/**
 * Roles and teams have the same CRUD (seed 000), so one resolver class is generated per
 * level with the seed's names: createRole / roles / role / updateRole / regenerateRolePrompt /
 * deleteRole, and the same for teams.
 */
function createLevelResolver<T extends object>(
  level: 'role' | 'team',
  type: ClassType<T>,
  toGraphql: (node: HierarchyNode) => T,
) {
  const Kind = level === 'role' ? 'Role' : 'Team';
  const idArg = `${level}Id`;

  @Resolver(() => type)
  class LevelResolver {
    @Mutation(() => type, {
      name: `create${Kind}`,
      description: `Admin only. Creates a ${level}; its id is assigned by the server.`,
    })
    async create(
      @Arg('input', () => CreateLevelInput) input: CreateLevelInput,
      @Ctx() ctx: HierarchyContext,
    ): Promise<T> {
      const orgId = authorizeOrg(ctx.identity, input.orgId, `create${Kind}`, 'admin');
      return toGraphql(await ctx.services.hierarchy.createChild(level, orgId, input));
    }

    @Query(() => [type], { name: `${level}s`, description: `The ${level}s of an org, oldest first.` })
    async list(
      @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
      @Arg('first', FirstArg.type, FirstArg) first: number | undefined,
      @Arg('after', () => ID, {
        nullable: true,
        description: `A ${level} id: list the ${level}s created after it.`,
      })
      after: string | undefined,
      @Ctx() ctx: HierarchyContext,
    ): Promise<T[]> {
      const org = await existingOrg(ctx, orgId, `${level}s`, 'read');
      const anchor = after ? await ctx.services.hierarchy.getNode(level, after, org) : undefined;
      const nodes = await ctx.services.hierarchy.listNodes(
        level,
        {
          first: pageSize(first),
          after: anchor ? { createdAt: anchor.createdAt, id: anchor.id } : undefined,
        },
        [org],
      );
      return nodes.map(toGraphql);
    }

    @Query(() => type, { name: level })
    async get(
      @Arg(idArg, () => ID) id: string,
      @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
      @Ctx() ctx: HierarchyContext,
    ): Promise<T> {
      const org = authorizeOrg(ctx.identity, orgId, level, 'read');
      return toGraphql(await ctx.services.hierarchy.getNode(level, id, org));
    }

    @Mutation(() => type, {
      name: `update${Kind}`,
      description: 'Admin only. Regenerates the prompt when name or focus changes.',
    })
    async update(
      @Arg(idArg, () => ID) id: string,
      @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
      @Arg('input', () => UpdateHierarchyInput) input: UpdateHierarchyInput,
      @Ctx() ctx: HierarchyContext,
    ): Promise<T> {
      const org = authorizeOrg(ctx.identity, orgId, `update${Kind}`, 'admin');
      return toGraphql(await ctx.services.hierarchy.updateNode(level, id, org, input));
    }

    @Mutation(() => type, { name: `regenerate${Kind}Prompt`, description: 'Admin only.' })
    async regenerate(
      @Arg(idArg, () => ID) id: string,
      @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
      @Ctx() ctx: HierarchyContext,
    ): Promise<T> {
      const org = authorizeOrg(ctx.identity, orgId, `regenerate${Kind}Prompt`, 'admin');
      return toGraphql(await ctx.services.hierarchy.regeneratePrompt(level, id, org));
    }

    @Mutation(() => Boolean, {
      name: `delete${Kind}`,
      description: `Admin only. Actors keep existing, without this ${level}.`,
    })
    async remove(
      @Arg(idArg, () => ID) id: string,
      @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
      @Ctx() ctx: HierarchyContext,
    ): Promise<boolean> {
      const org = authorizeOrg(ctx.identity, orgId, `delete${Kind}`, 'admin');
      return ctx.services.hierarchy.deleteNode(level, id, org);
    }
  }
  return LevelResolver;
}

export const RoleResolver = createLevelResolver('role', Role, toRole);
export const TeamResolver = createLevelResolver('team', Team, toTeam);
