import { TemplatePromptGenerator } from '../../subgraphs/hierarchy/services/prompt-generator';
import type { EntityMention } from '../../subgraphs/memory/extraction/types';
import {
  DeterministicPromotionJudge,
  type PromotionJudge,
} from '../../subgraphs/memory/services/promotion-judge';
import {
  PromotionService,
  type PromotionProposal,
  type PromotionSettings,
} from '../../subgraphs/memory/services/promotion-service';
import type { OrgDirectory, ScopeDirectory } from '../../subgraphs/memory/services/scope-directory';
import { eventMemory, type MemoryTestBed } from './memory-test-bed';

export { eventMemory, openMemoryTestBed, type MemoryTestBed } from './memory-test-bed';

/** The promotion thresholds the promotion tests run with (the configured defaults). */
export const PROMOTION_SETTINGS: PromotionSettings = {
  minActorSupport: 3,
  minGroupSupport: 3,
  clusterSimilarity: 0.7,
  minScore: 0.3,
};

/** The org focus the promotion tests give their orgs (it is part of every template prompt). */
export const ORG_FOCUS = 'B2B SaaS company building developer tools';

/** The same preference in five different words. */
export const POSTGRES_TESTS = [
  'I prefer to write integration tests against a real Postgres database.',
  'I always test against a real Postgres instance rather than mocks.',
  'My preference is running tests on an actual Postgres database, not a fake one.',
  'I like integration tests that hit a real Postgres DB.',
  'Tests should run against real Postgres, I never mock the database.',
];

/** One team practice in six different words. */
export const CODE_REVIEW = [
  'Code reviews should be done within one business day.',
  'We should finish code reviews within one business day.',
  'Code review turnaround should be under one business day.',
  'Code reviews must be finished within one business day.',
  'Reviews of pull requests should take at most one business day.',
  'Code reviews need to be completed within one business day.',
];

/**
 * A {@link ScopeDirectory} held in the test (standing in for the hierarchy subgraph): `orgs`
 * is what it knows; `lookup` answers like the real one, with only the requested actors.
 */
export class TestScopeDirectory implements ScopeDirectory {
  readonly orgs = new Map<string, OrgDirectory>();
  private readonly templates = new TemplatePromptGenerator();

  async lookup(orgId: string, actorIds: readonly string[]): Promise<OrgDirectory | null> {
    const org = this.orgs.get(orgId);
    if (!org) return null;
    const wanted = new Set(actorIds);
    return { ...org, actors: new Map([...org.actors].filter(([id]) => wanted.has(id))) };
  }

  /** Adds an org: roles and teams (id → focus) with prompts from the real template generator, actors with a role and team. */
  async defineOrg(definition: {
    orgId: string;
    name: string;
    focus: string;
    roles: Record<string, string>;
    teams: Record<string, string>;
    actors: Record<string, { roleId?: string; teamId?: string }>;
  }): Promise<void> {
    const { orgId, name, focus } = definition;
    const org = { name, focus };
    const prompt = async (level: 'org' | 'role' | 'team', levelName: string, levelFocus: string) =>
      (
        await this.templates.generate({
          level,
          name: levelName,
          focus: levelFocus,
          org: level === 'org' ? undefined : org,
        })
      ).prompt;
    const level = async (kind: 'role' | 'team', entries: Record<string, string>) =>
      new Map(
        await Promise.all(
          Object.entries(entries).map(
            async ([id, levelFocus]) =>
              [
                id,
                { name: id, focus: levelFocus, promotionPrompt: await prompt(kind, id, levelFocus) },
              ] as const,
          ),
        ),
      );
    this.orgs.set(orgId, {
      orgId,
      name,
      focus,
      promotionPrompt: await prompt('org', name, focus),
      roles: await level('role', definition.roles),
      teams: await level('team', definition.teams),
      actors: new Map(
        Object.entries(definition.actors).map(([id, actor]) => [
          id,
          { roleId: actor.roleId ?? null, teamId: actor.teamId ?? null },
        ]),
      ),
    });
  }
}

/** A quiet PromotionService over the bed's stores and `directory`, with the deterministic judge unless `judge` is given. */
export function promotionService(
  bed: MemoryTestBed,
  directory: ScopeDirectory,
  settings: PromotionSettings,
  judge?: PromotionJudge,
): PromotionService {
  return new PromotionService(
    bed.store,
    bed.promotions,
    directory,
    bed.embedder,
    judge ?? new DeterministicPromotionJudge(bed.embedder),
    settings,
    { log: () => {} },
  );
}

/** Stores an actor's PREFERENCE memory from one event, with a real vector; returns its id. */
export async function insertActorPreference(
  bed: MemoryTestBed,
  memory: { orgId: string; actorId: string; content: string; eventId: string; mentions?: EntityMention[] },
): Promise<string> {
  const [embedding] = await bed.embedder.embed([memory.content]);
  const { id } = await bed.store.insertMemory(
    eventMemory({
      orgId: memory.orgId,
      scope: { level: 'ACTOR', id: memory.actorId },
      actorId: memory.actorId,
      content: memory.content,
      category: 'PREFERENCE',
      embedding: embedding!,
      embeddingModel: bed.embedder.modelId,
      eventIds: [memory.eventId],
      mentions: memory.mentions,
    }),
  );
  return id;
}

/** The one proposal for `level` `id` whose statement matches `text` (fails the test unless exactly one). */
export function onlyProposal(
  proposals: PromotionProposal[],
  level: string,
  id: string,
  text: RegExp,
): PromotionProposal {
  const found = proposals.filter(
    (p) => p.targetScope.level === level && p.targetScope.id === id && text.test(p.statement),
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}
