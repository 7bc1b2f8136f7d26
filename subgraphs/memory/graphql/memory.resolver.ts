import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { authorizeOrg } from '../../../common/authz';
import { BadUserInputError } from '../../../common/errors';
import { decodeCursor, pageSize } from '../../../common/pagination';
import type { MemoryContext } from '../context';
import type { MemoryFilter } from '../storage/memory-store';
import { authorizeObject, canSeeOrg } from './access';
import { connection } from './ingestion.resolver';
import { toMemory } from './mappers';
import {
  Actor,
  CreateMemoryInput,
  ForgetActorResult,
  Memory,
  MemoryConnection,
  Mention,
  ScopeLevel,
} from './types';

@Resolver(() => Memory)
export class MemoryResolver {
  @Query(() => MemoryConnection, {
    description:
      'Memories of an org, oldest first, filtered by scope, actor or document. Closed (superseded or replaced) ones only with includeClosed.',
  })
  async memories(
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Arg('level', () => ScopeLevel, { nullable: true }) level: ScopeLevel | undefined,
    @Arg('actorId', () => ID, { nullable: true }) actorId: string | undefined,
    @Arg('roleId', () => ID, { nullable: true }) roleId: string | undefined,
    @Arg('teamId', () => ID, { nullable: true }) teamId: string | undefined,
    @Arg('documentId', () => ID, { nullable: true }) documentId: string | undefined,
    @Arg('includeClosed', () => Boolean, { defaultValue: false }) includeClosed: boolean,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<MemoryConnection> {
    const org = authorizeOrg(ctx.identity, orgId, 'memories', 'read');
    const filter: MemoryFilter = { orgId: org, documentId, includeClosed, level };
    if (level === ScopeLevel.ACTOR) filter.scopeId = actorId;
    else if (level === ScopeLevel.ROLE) filter.scopeId = roleId;
    else if (level === ScopeLevel.TEAM) filter.scopeId = teamId;
    else if (level === ScopeLevel.ORG) filter.scopeId = org;
    else if (!level) {
      if ([actorId, roleId, teamId].filter(Boolean).length > 1) {
        throw new BadUserInputError('Give one of actorId, roleId or teamId (or a level)', { field: 'level' });
      }
      if (actorId) Object.assign(filter, { level: 'ACTOR', scopeId: actorId });
      if (roleId) Object.assign(filter, { level: 'ROLE', scopeId: roleId });
      if (teamId) Object.assign(filter, { level: 'TEAM', scopeId: teamId });
    }
    const size = pageSize(first);
    const rows = await ctx.services.memories.listMemories(filter, {
      first: size + 1,
      after: decodeCursor(after),
    });
    return connection(rows, size, (memory) => ({ createdAt: memory.createdAt, id: memory.id }), toMemory);
  }

  @Query(() => Memory)
  async memory(@Arg('id', () => ID) id: string, @Ctx() ctx: MemoryContext): Promise<Memory> {
    const memory = await ctx.loaders.memories.load(id);
    authorizeObject(ctx.identity, memory?.orgId, `Memory "${id}" not found`, 'memory', 'read');
    return toMemory(memory!);
  }

  @Mutation(() => Memory, {
    description: 'Writes one memory now at the most specific scope given (actor, team, role, else org).',
  })
  async createMemory(
    @Arg('input', () => CreateMemoryInput) input: CreateMemoryInput,
    @Ctx() ctx: MemoryContext,
  ): Promise<Memory> {
    const org = authorizeOrg(ctx.identity, input.orgId, 'createMemory', 'write');
    return toMemory(await ctx.services.memories.createMemory(org, input));
  }

  @Mutation(() => Boolean, { description: 'Deletes one memory with its vector and mentions.' })
  async deleteMemory(@Arg('id', () => ID) id: string, @Ctx() ctx: MemoryContext): Promise<boolean> {
    const memory = await ctx.loaders.memories.load(id);
    const org = authorizeObject(
      ctx.identity,
      memory?.orgId,
      `Memory "${id}" not found`,
      'deleteMemory',
      'write',
    );
    return ctx.services.memories.deleteMemory(org, id);
  }

  @Mutation(() => ForgetActorResult, {
    description:
      "Admin only. Deletes an actor's events, memories, vectors and entity links, and says how many.",
  })
  async forgetActor(
    @Arg('actorId', () => ID) actorId: string,
    @Arg('orgId', () => ID, { nullable: true }) orgId: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<ForgetActorResult> {
    const org = authorizeOrg(ctx.identity, orgId, 'forgetActor', 'admin');
    return { actorId, ...(await ctx.services.memories.forgetActor(org, actorId)) };
  }

  @FieldResolver(() => [Memory], { description: 'Earlier memories this one replaced, oldest first.' })
  async history(@Root() memory: Memory, @Ctx() ctx: MemoryContext): Promise<Memory[]> {
    return (await ctx.loaders.history.load(memory.id)).map(toMemory);
  }

  @FieldResolver(() => [Mention], { description: 'Entities the memory mentions, as extracted.' })
  async mentions(@Root() memory: Memory, @Ctx() ctx: MemoryContext): Promise<Mention[]> {
    return ctx.loaders.mentions.load(memory.id);
  }
}

@Resolver(() => Actor)
export class ActorMemoriesResolver {
  @FieldResolver(() => MemoryConnection, {
    description: "The actor's own (ACTOR-scope) memories, oldest first.",
  })
  async memories(
    @Root() actor: Actor,
    @Arg('first', () => Int, { nullable: true }) first: number | undefined,
    @Arg('after', () => String, { nullable: true }) after: string | undefined,
    @Ctx() ctx: MemoryContext,
  ): Promise<MemoryConnection> {
    const size = pageSize(first);
    const rows = await ctx.services.memories.listMemories(
      { orgId: actor.orgId, level: 'ACTOR', scopeId: actor.actorId },
      { first: size + 1, after: decodeCursor(after) },
    );
    return connection(rows, size, (memory) => ({ createdAt: memory.createdAt, id: memory.id }), toMemory);
  }
}

/** `_entities` for Memory and Actor, batched and tenant-checked. */
export const memoryReferenceResolvers = {
  Memory: {
    __resolveReference: async (reference: { id: string }, ctx: MemoryContext) => {
      const memory = await ctx.loaders.memories.load(reference.id);
      return memory && canSeeOrg(ctx.identity, memory.orgId) ? toMemory(memory) : null;
    },
  },
  Actor: {
    // Role and team arrive with the representation when `context` requires them.
    __resolveReference: (
      reference: { actorId: string; orgId: string; roleId?: string | null; teamId?: string | null },
      ctx: MemoryContext,
    ) => (canSeeOrg(ctx.identity, reference.orgId) ? { roleId: null, teamId: null, ...reference } : null),
  },
};
