import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { authorizeOrg } from '../../../common/authz';
import type { HierarchyContext } from '../context';
import { existingOrg } from './org-scope';
import { toApiKey } from './mappers';
import { ApiKey, CreatedApiKey, Viewer } from './types';

@Resolver()
export class ApiKeyResolver {
  @Mutation(() => CreatedApiKey, {
    description: 'Admin only. The returned key is shown once; Memsy keeps only its hash.',
  })
  async createApiKey(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Arg('admin', () => Boolean) admin: boolean,
    @Arg('name', () => String, { nullable: true }) name: string | undefined,
    @Ctx() ctx: HierarchyContext,
  ): Promise<CreatedApiKey> {
    const org = authorizeOrg(ctx.identity, orgId, 'createApiKey', 'admin');
    await ctx.services.hierarchy.requireOrg(org);
    const created = await ctx.services.apiKeys.create(org, admin, name);
    return { keyId: created.key.keyId, key: created.secret, apiKey: toApiKey(created.key) };
  }

  @Mutation(() => Boolean, { description: 'Admin only. A revoked key is refused from then on.' })
  async revokeApiKey(@Arg('keyId', () => ID) keyId: string, @Ctx() ctx: HierarchyContext): Promise<boolean> {
    return ctx.services.apiKeys.revoke(ctx.identity, keyId, 'revokeApiKey');
  }

  @Query(() => [ApiKey], { description: 'Admin only. The keys of an org, revoked ones included.' })
  async apiKeys(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: HierarchyContext,
  ): Promise<ApiKey[]> {
    const org = await existingOrg(ctx, orgId, 'apiKeys', 'admin');
    return (await ctx.services.apiKeys.list(org)).map(toApiKey);
  }

  @Query(() => Viewer, { description: 'Who the API key of this request is.' })
  viewer(@Ctx() ctx: HierarchyContext): Viewer {
    const { identity } = ctx;
    return identity.kind === 'service'
      ? { keyId: null, orgId: null, role: 'service' }
      : { keyId: identity.keyId, orgId: identity.orgId, role: identity.role };
  }
}
