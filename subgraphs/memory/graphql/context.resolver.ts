import { Arg, Ctx, Directive, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { authorizeOrg } from '../../../common/authz';
import { BadUserInputError, NotFoundError } from '../../../common/errors';
import type { MemoryContext } from '../context';
import type { ContextRequest } from '../services/context-service';
import type { ScopeLevel as ScopeLevelModel } from '../storage/memory-store';
import { canSeeOrg } from './access';
import { Actor, ContextResult, ScopeLevel } from './types';

const MAX_QUERY_CHARS = 2000;

function checkQuery(query: string): string {
  const trimmed = query.trim();
  if (!trimmed) throw new BadUserInputError('query must not be empty', { field: 'query' });
  if (trimmed.length > MAX_QUERY_CHARS)
    throw new BadUserInputError(`query must be at most ${MAX_QUERY_CHARS} characters`, { field: 'query' });
  return trimmed;
}

function checkLimits(limit: number | undefined, maxTokens: number | undefined): void {
  if (limit !== undefined && (limit < 1 || limit > 50))
    throw new BadUserInputError('limit must be between 1 and 50', { field: 'limit' });
  if (maxTokens !== undefined && maxTokens !== null && maxTokens < 1)
    throw new BadUserInputError('maxTokens must be positive', { field: 'maxTokens' });
}

/** `Actor.context`: the federated form; the actor's role and team come from the hierarchy (`@requires`). */
@Resolver(() => Actor)
export class ActorContextResolver {
  @Directive('@requires(fields: "roleId teamId")')
  @FieldResolver(() => ContextResult, {
    description: 'The memories that fit this actor for a query, merged across its scope chain and ranked.',
  })
  async context(
    @Root() actor: Actor,
    @Arg('query') query: string,
    @Arg('limit', () => Int, { defaultValue: 8 }) limit: number,
    @Arg('maxTokens', () => Int, { nullable: true }) maxTokens: number | undefined,
    @Arg('scopes', () => [ScopeLevel], { nullable: true }) scopes: ScopeLevel[] | undefined,
    @Arg('asOf', () => Date, { nullable: true }) asOf: Date | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<ContextResult> {
    if (!canSeeOrg(ctx.identity, actor.orgId)) throw new NotFoundError(`Actor "${actor.actorId}" not found`);
    checkLimits(limit, maxTokens);
    return ctx.services.context.retrieve(
      request(
        actor.orgId,
        actor.actorId,
        actor.roleId,
        actor.teamId,
        checkQuery(query),
        limit,
        maxTokens,
        scopes,
        asOf,
      ),
    ) as unknown as Promise<ContextResult>;
  }
}

/** `Query.context`: the same for clients that prefer one root field. */
@Resolver()
export class ContextQueryResolver {
  @Mutation(() => Boolean, {
    description: 'Admin only. Drops the cached org part of context results for the org, on every instance.',
  })
  async invalidateContextCache(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<boolean> {
    const org = authorizeOrg(ctx.identity, orgId, 'invalidateContextCache', 'admin');
    await ctx.services.store.bumpOrgContextVersion(org);
    return true;
  }

  @Query(() => ContextResult, {
    description: 'The memories that fit an actor for a query, merged across its scope chain and ranked.',
  })
  async context(
    @Arg('actorId', () => ID) actorId: string,
    @Arg('query') query: string,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Arg('limit', () => Int, { defaultValue: 8 }) limit: number,
    @Arg('maxTokens', () => Int, { nullable: true }) maxTokens: number | undefined,
    @Arg('scopes', () => [ScopeLevel], { nullable: true }) scopes: ScopeLevel[] | undefined,
    @Arg('asOf', () => Date, { nullable: true }) asOf: Date | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<ContextResult> {
    const org = authorizeOrg(ctx.identity, orgId, 'context', 'read');
    checkLimits(limit, maxTokens);
    const text = checkQuery(query);
    const directory = await ctx.services.ingestion.requireOrg(org, [actorId]);
    const actor = directory.actors.get(actorId);
    if (!actor) throw new NotFoundError(`Actor "${actorId}" not found in org "${org}"`);
    return ctx.services.context.retrieve(
      request(org, actorId, actor.roleId, actor.teamId, text, limit, maxTokens, scopes, asOf),
    ) as unknown as Promise<ContextResult>;
  }
}

function request(
  orgId: string,
  actorId: string,
  roleId: string | null,
  teamId: string | null,
  query: string,
  limit: number,
  maxTokens: number | undefined,
  scopes: ScopeLevel[] | undefined,
  asOf: Date | undefined,
): ContextRequest {
  return {
    orgId,
    actorId,
    roleId: roleId ?? null,
    teamId: teamId ?? null,
    query,
    limit,
    maxTokens,
    scopes: scopes as ScopeLevelModel[] | undefined,
    asOf,
  };
}
