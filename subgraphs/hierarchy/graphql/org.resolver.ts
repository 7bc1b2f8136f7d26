import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { authorizeOrg, requirePlatformAdmin, visibleOrgIds } from '../../../common/authz';
import { pageSize } from '../../../common/pagination';
import type { HierarchyContext } from '../context';
import { toOrg, toRole, toTeam } from './mappers';
import { CreateOrgInput, FirstArg, Org, Role, Team, UpdateHierarchyInput } from './types';

@Resolver(() => Org)
export class OrgResolver {
  @Mutation(() => Org, { description: 'Creates an org and its promotion prompt. Platform admin key only.' })
  async createOrg(
    @Arg('input', () => CreateOrgInput) input: CreateOrgInput,
    @Ctx() ctx: HierarchyContext,
  ): Promise<Org> {
    requirePlatformAdmin(ctx.identity, 'createOrg');
    return toOrg(await ctx.services.hierarchy.createOrg(input.orgId, input));
  }

  @Query(() => [Org], { description: 'All orgs for the platform admin key; the own org for any other key.' })
  async orgs(
    @Arg('first', FirstArg.type, FirstArg) first: number | undefined,
    @Arg('after', () => String, { nullable: true, description: 'An org id: list the orgs created after it.' })
    after: string | undefined,
    @Ctx() ctx: HierarchyContext,
  ): Promise<Org[]> {
    const anchor = after ? await ctx.loaders.nodes.org.load(after) : null;
    const nodes = await ctx.services.hierarchy.listNodes(
      'org',
      { first: pageSize(first), after: anchor ? { createdAt: anchor.createdAt, id: anchor.id } : undefined },
      visibleOrgIds(ctx.identity),
    );
    return nodes.map(toOrg);
  }

  @Query(() => Org, { description: 'One org; orgId may be omitted with a key of that org.' })
  async org(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: HierarchyContext,
  ): Promise<Org> {
    const id = authorizeOrg(ctx.identity, orgId, 'org', 'read');
    return toOrg(await ctx.services.hierarchy.requireOrg(id));
  }

  @Mutation(() => Org, { description: 'Admin only. Regenerates the prompt when name or focus changes.' })
  async updateOrg(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Arg('input', () => UpdateHierarchyInput) input: UpdateHierarchyInput,
    @Ctx() ctx: HierarchyContext,
  ): Promise<Org> {
    const id = authorizeOrg(ctx.identity, orgId, 'updateOrg', 'admin');
    return toOrg(await ctx.services.hierarchy.updateNode('org', id, id, input));
  }

  @Mutation(() => Org, {
    description: 'Admin only. Regenerates the promotion prompt from the current name and focus.',
  })
  async regenerateOrgPrompt(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: HierarchyContext,
  ): Promise<Org> {
    const id = authorizeOrg(ctx.identity, orgId, 'regenerateOrgPrompt', 'admin');
    return toOrg(await ctx.services.hierarchy.regeneratePrompt('org', id, id));
  }

  @Mutation(() => Boolean, {
    description: 'Admin only. Deletes the org with its roles, teams, actors and API keys.',
  })
  async deleteOrg(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: HierarchyContext,
  ): Promise<boolean> {
    const id = authorizeOrg(ctx.identity, orgId, 'deleteOrg', 'admin');
    return ctx.services.hierarchy.deleteNode('org', id, id);
  }

  @FieldResolver(() => [Role])
  async roles(
    @Root() org: Org,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Ctx() ctx: HierarchyContext,
  ) {
    // Validated like every list's `first` (a negative one would drop items from the end).
    const limit = first === undefined || first === null ? undefined : pageSize(first);
    return (await ctx.loaders.childrenOfOrg.role.load(org.orgId)).slice(0, limit).map(toRole);
  }

  @FieldResolver(() => [Team])
  async teams(
    @Root() org: Org,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Ctx() ctx: HierarchyContext,
  ) {
    // Validated like every list's `first` (a negative one would drop items from the end).
    const limit = first === undefined || first === null ? undefined : pageSize(first);
    return (await ctx.loaders.childrenOfOrg.team.load(org.orgId)).slice(0, limit).map(toTeam);
  }
}
