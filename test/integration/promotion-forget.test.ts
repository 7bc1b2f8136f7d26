import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { PromotionService } from '../../subgraphs/memory/services/promotion-service';
import type { Memory, MemoryStore } from '../../subgraphs/memory/storage/memory-store';
import { unique } from '../support/database';
import {
  CODE_REVIEW,
  insertActorPreference,
  onlyProposal,
  openMemoryTestBed,
  ORG_FOCUS,
  POSTGRES_TESTS,
  PROMOTION_SETTINGS,
  promotionService,
  TestScopeDirectory,
  type MemoryTestBed,
} from '../support/promotion-fixtures';

/**
 * DESIGN.md 3.8, complete deletion of an actor, where promotion copied the actor's ids up the
 * hierarchy: forgetActor (and deleteMemory) take them out of every promoted memory's
 * provenance and support, and delete a promoted memory left without sources. Real embedded
 * Postgres, real local encoder, the real promotion engine with the deterministic judge.
 */

const ROLES = { backend: 'APIs, testing, Postgres', frontend: 'React, TypeScript, design systems' };
const TEAMS = {
  platform: 'Infrastructure, CI/CD, reliability',
  growth: 'Developer experience, code review and delivery',
};

describe('forgetting an actor whose memories were promoted', () => {
  let bed: MemoryTestBed;
  let dataSource: DataSource;
  let store: MemoryStore;
  const directory = new TestScopeDirectory();

  function service(): PromotionService {
    return promotionService(bed, directory, PROMOTION_SETTINGS);
  }

  async function defineOrg(
    orgId: string,
    roles: Record<string, string>,
    teams: Record<string, string>,
    actors: Record<string, { roleId: string; teamId?: string }>,
  ): Promise<void> {
    // A fixed name: it is part of the prompts, and so of the judge's scores.
    await directory.defineOrg({ orgId, name: 'Forgetful Inc', focus: ORG_FOCUS, roles, teams, actors });
  }

  /** What the pipeline leaves of one message: the actor's event and the memory drawn from it. */
  async function say(
    orgId: string,
    actorId: string,
    content: string,
  ): Promise<{ id: string; eventId: string }> {
    const eventId = `evt-${randomUUID()}`;
    const actor = directory.orgs.get(orgId)!.actors.get(actorId)!;
    await store.insertEvents(
      [
        {
          orgId,
          eventId,
          actorId,
          sessionId: 's1',
          kind: 'USER_MESSAGE',
          content,
          roleId: actor.roleId,
          teamId: actor.teamId,
          occurredAt: new Date(),
          metadata: {},
        },
      ],
      'job',
    );
    const id = await insertActorPreference(bed, { orgId, actorId, content, eventId });
    return { id, eventId };
  }

  async function memory(id: string): Promise<Memory | undefined> {
    return (await store.getMemories([id]))[0];
  }

  /** Rows of the org (any column, metadata included) or promotion runs that still name any of `needles`. */
  async function traces(orgId: string, needles: string[]): Promise<string[]> {
    const rows = (await dataSource.query(
      `SELECT 'memory ' || m.id AS row FROM memory.memories m
       WHERE m.org_id = $1 AND EXISTS (SELECT 1 FROM unnest($2::text[]) n WHERE strpos(m::text, n) > 0)
       UNION ALL
       SELECT 'run ' || r.job_id FROM memory.promotion_runs r
       WHERE r.org_id = $1 AND EXISTS (SELECT 1 FROM unnest($2::text[]) n WHERE strpos(r.proposals::text, n) > 0)`,
      [orgId, needles],
    )) as Array<{ row: string }>;
    return rows.map((row) => row.row);
  }

  beforeAll(async () => {
    bed = await openMemoryTestBed();
    ({ dataSource, store } = bed);
  });

  afterAll(async () => {
    await bed?.close();
  });

  describe('five backend engineers share a testing preference; four of them and three frontend engineers a review practice', () => {
    const ORG = unique('forget-org');
    // Distinct ids, so a text search for one finds only that actor.
    const [a1, a2, a3, a4, a5] = ['a1', 'a2', 'a3', 'a4', 'a5'].map((name) => unique(name));
    const [f1, f2, f3] = ['f1', 'f2', 'f3'].map((name) => unique(name));
    const backend = [a1!, a2!, a3!, a4!, a5!];
    const said = new Map<string, Array<{ id: string; eventId: string }>>();
    const ids = { role: '', platform: '', reviewRole: '', reviewFrontend: '', reviewGrowth: '', org: '' };
    const of = (actor: string) => said.get(actor) ?? [];

    beforeAll(async () => {
      await defineOrg(ORG, ROLES, TEAMS, {
        [a1!]: { roleId: 'backend', teamId: 'platform' },
        [a2!]: { roleId: 'backend', teamId: 'platform' },
        [a3!]: { roleId: 'backend', teamId: 'platform' },
        [a4!]: { roleId: 'backend', teamId: 'growth' },
        [a5!]: { roleId: 'backend', teamId: 'growth' },
        [f1!]: { roleId: 'frontend', teamId: 'growth' },
        [f2!]: { roleId: 'frontend', teamId: 'growth' },
        [f3!]: { roleId: 'frontend', teamId: 'growth' },
      });
      const add = async (actor: string, content: string) =>
        said.set(actor, [...of(actor), await say(ORG, actor, content)]);
      for (const [i, actor] of backend.entries()) await add(actor, POSTGRES_TESTS[i]!);
      for (const [i, actor] of [a1!, a2!, a4!, f1!, f2!, f3!].entries()) await add(actor, CODE_REVIEW[i]!);

      const run = await service().run(ORG, false);
      ids.role = onlyProposal(run.proposals, 'ROLE', 'backend', /Postgres/).memoryId!;
      ids.platform = onlyProposal(run.proposals, 'TEAM', 'platform', /Postgres/).memoryId!;
      ids.reviewRole = onlyProposal(run.proposals, 'ROLE', 'backend', /review/).memoryId!;
      ids.reviewFrontend = onlyProposal(run.proposals, 'ROLE', 'frontend', /review/).memoryId!;
      ids.reviewGrowth = onlyProposal(run.proposals, 'TEAM', 'growth', /review/).memoryId!;
      ids.org = onlyProposal(run.proposals, 'ORG', ORG, /review/).memoryId!;
      expect(Object.values(ids).every(Boolean)).toBe(true);
    });

    it('the promoted role memory starts with five sources, their five events and five supporters', async () => {
      const role = (await memory(ids.role))!;
      expect([...role.provenance.sourceMemoryIds].sort()).toEqual(backend.map((a) => of(a)[0]!.id).sort());
      expect([...role.provenance.eventIds].sort()).toEqual(backend.map((a) => of(a)[0]!.eventId).sort());
      expect(role.metadata.promotion).toMatchObject({ support: 5, supporters: [...backend].sort() });
      // The org memory's lineage reaches a1's review event through the backend role memory.
      expect((await memory(ids.org))!.provenance.eventIds).toContain(of(a1!)[1]!.eventId);
      expect(await traces(ORG, [a1!])).not.toEqual([]);
    });

    it("forgetActor of one engineer leaves four sources and four supporters, and no trace of the engineer's ids", async () => {
      const version = await store.orgContextVersion(ORG);
      const gone = of(a1!);
      const counts = await store.forgetActor(ORG, a1!);
      expect(counts).toMatchObject({ events: 2, memories: 2 });

      const role = (await memory(ids.role))!;
      const rest = [a2!, a3!, a4!, a5!];
      expect([...role.provenance.sourceMemoryIds].sort()).toEqual(rest.map((a) => of(a)[0]!.id).sort());
      expect([...role.provenance.eventIds].sort()).toEqual(rest.map((a) => of(a)[0]!.eventId).sort());
      expect(role.metadata.promotion).toMatchObject({
        support: 4,
        supporters: [...rest].sort(),
        sourceLevels: ['ACTOR'],
      });
      // The platform team memory (a1, a2, a3) keeps two; the review role memory (a1, a2, a4) two.
      expect((await memory(ids.platform))!.metadata.promotion).toMatchObject({ support: 2 });
      expect((await memory(ids.reviewRole))!.provenance.sourceMemoryIds).toHaveLength(2);
      // The org memory keeps its three group sources but not a1's event (it had it through the role).
      const org = (await memory(ids.org))!;
      expect(org.provenance.sourceMemoryIds).toHaveLength(3);
      expect(org.provenance.eventIds).not.toContain(gone[1]!.eventId);
      expect(org.provenance.eventIds).toContain(of(a2!)[1]!.eventId);
      expect(org.metadata.promotion).toMatchObject({ support: 3 });
      expect(await store.orgContextVersion(ORG)).toBeGreaterThan(version);

      // Nothing anywhere in the org's memories (or its promotion runs) names a1, its memories or events.
      const needles = [a1!, ...gone.map((g) => g.id), ...gone.map((g) => g.eventId)];
      expect(await traces(ORG, needles)).toEqual([]);
      // …while the other engineers are still there: the search would have found them.
      expect(await traces(ORG, [a2!])).not.toEqual([]);
      // Re-running promotion does not bring a1 back, and changes nothing.
      const rerun = await service().run(ORG, false);
      expect(onlyProposal(rerun.proposals, 'ROLE', 'backend', /Postgres/)).toMatchObject({ support: 4 });
      expect(await traces(ORG, needles)).toEqual([]);
    });

    it('forgetting all five deletes the promoted memories they alone supported, up to the org', async () => {
      for (const actor of [a2!, a3!, a4!]) await store.forgetActor(ORG, actor);
      // a1..a3 were the whole platform team memory: it went with a3.
      expect(await memory(ids.platform)).toBeUndefined();
      // The backend review memory (a1, a2, a4) went with a4, and left the org memory:
      const org = (await memory(ids.org))!;
      expect(await memory(ids.reviewRole)).toBeUndefined();
      expect([...org.provenance.sourceMemoryIds].sort()).toEqual(
        [ids.reviewFrontend, ids.reviewGrowth].sort(),
      );
      expect(org.metadata.promotion).toMatchObject({
        support: 2,
        supporters: ['ROLE:frontend', 'TEAM:growth'],
        sourceLevels: ['ROLE', 'TEAM'],
      });
      expect([...org.provenance.eventIds].sort()).toEqual(
        [f1!, f2!, f3!].map((f) => of(f)[0]!.eventId).sort(),
      );
      expect((await memory(ids.role))!.metadata.promotion).toMatchObject({ support: 1, supporters: [a5] });

      await store.forgetActor(ORG, a5!);
      expect(await memory(ids.role)).toBeUndefined();
      const everyone = backend.flatMap((a) => [a, ...of(a).flatMap((s) => [s.id, s.eventId])]);
      expect(await traces(ORG, everyone)).toEqual([]);
      // The frontend engineers' memories are untouched.
      expect(await store.getMemories([f1!, f2!, f3!].map((f) => of(f)[0]!.id))).toHaveLength(3);
    });

    it('deleting the last sources of the org memory deletes it and bumps the org context version', async () => {
      const version = await store.orgContextVersion(ORG);
      expect(await store.deleteMemory(ORG, ids.reviewFrontend)).toBe(true);
      const org = (await memory(ids.org))!;
      expect(org.provenance.sourceMemoryIds).toEqual([ids.reviewGrowth]);
      expect(org.metadata.promotion).toMatchObject({ support: 1, supporters: ['TEAM:growth'] });
      // The growth team memory still holds the frontend engineers' events: they stay.
      expect(org.provenance.eventIds).toHaveLength(3);
      expect(await store.orgContextVersion(ORG)).toBeGreaterThan(version);

      const before = await store.orgContextVersion(ORG);
      expect(await store.deleteMemory(ORG, ids.reviewGrowth)).toBe(true);
      expect(await memory(ids.org)).toBeUndefined();
      expect(await store.orgContextVersion(ORG)).toBeGreaterThan(before);
    });
  });

  it('deleteMemory of one source takes it out of the provenance; a supporter with another source stays', async () => {
    const ORG = unique('delete-org');
    const [b1, b2, b3] = ['b1', 'b2', 'b3'].map((name) => unique(name));
    await defineOrg(
      ORG,
      { backend: ROLES.backend },
      {},
      {
        [b1!]: { roleId: 'backend' },
        [b2!]: { roleId: 'backend' },
        [b3!]: { roleId: 'backend' },
      },
    );
    const first = await say(ORG, b1!, POSTGRES_TESTS[0]!);
    const second = await say(ORG, b1!, POSTGRES_TESTS[3]!);
    const others = [await say(ORG, b2!, POSTGRES_TESTS[1]!), await say(ORG, b3!, POSTGRES_TESTS[2]!)];
    const run = await service().run(ORG, false);
    const promotedId = onlyProposal(run.proposals, 'ROLE', 'backend', /Postgres/).memoryId!;
    expect((await memory(promotedId))!.provenance.sourceMemoryIds).toHaveLength(4);

    expect(await store.deleteMemory(ORG, first.id)).toBe(true);
    let promoted = (await memory(promotedId))!;
    expect([...promoted.provenance.sourceMemoryIds].sort()).toEqual(
      [second.id, ...others.map((o) => o.id)].sort(),
    );
    expect(promoted.provenance.eventIds).not.toContain(first.eventId);
    expect(promoted.provenance.eventIds).toHaveLength(3);
    // b1 still stands behind it through its other memory.
    expect(promoted.metadata.promotion).toMatchObject({ support: 3, supporters: [b1, b2, b3].sort() });

    expect(await store.deleteMemory(ORG, second.id)).toBe(true);
    promoted = (await memory(promotedId))!;
    expect(promoted.provenance.sourceMemoryIds).toHaveLength(2);
    expect(promoted.metadata.promotion).toMatchObject({ support: 2, supporters: [b2, b3].sort() });
    // (The promotion run that wrote it keeps its proposals as they were: deleting a memory is not forgetting a person.)
    const memories = (await traces(ORG, [first.id, second.id])).filter((row) => row.startsWith('memory'));
    expect(memories).toEqual([]);
  });
});
