import type { DataSource } from 'typeorm';
import { openSubgraphDatabase } from '../../common/db/data-source';
import { ConflictError } from '../../common/errors';
import { HIERARCHY_DATABASE } from '../../subgraphs/hierarchy';
import type {
  ApiKey,
  HierarchyNode,
  HierarchyStore,
  KeyRole,
  Level,
  PromptMeta,
} from '../../subgraphs/hierarchy/storage/hierarchy-store';
import { PostgresHierarchyStore } from '../../subgraphs/hierarchy/storage/postgres-hierarchy-store';
import { DATABASE_TARGETS, reportServerTarget, unique } from '../support/database';

/**
 * Contract suite of the HierarchyStore port, run against every configured adapter target:
 * always the embedded Postgres (PGlite behind the socket server), and a Postgres server as
 * well when DATABASE_URL is set.
 */

reportServerTarget('HierarchyStore contract');

const T0 = new Date('2030-01-01T00:00:00.000Z');
function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

function meta(overrides: Partial<PromptMeta> = {}): PromptMeta {
  return {
    generator: 'template',
    model: null,
    templateVersion: 'template-v1',
    generatedAt: at(-60),
    ...overrides,
  };
}

function makeNode(
  level: Level,
  id: string,
  orgId: string,
  name: string,
  createdAt: Date = at(0),
  overrides: Partial<HierarchyNode> = {},
): HierarchyNode {
  return {
    level,
    id,
    orgId: level === 'org' ? id : orgId,
    name,
    focus: `${name} focus`,
    promotionPrompt: `prompt of ${name}`,
    promptMeta: meta(),
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}

function makeKey(orgId: string | null, role: KeyRole, overrides: Partial<ApiKey> = {}): ApiKey {
  return {
    keyId: unique('key'),
    orgId,
    name: `${role} key`,
    role,
    keyPrefix: 'msy_abcdef',
    createdAt: at(0),
    revokedAt: null,
    ...overrides,
  };
}

/** Runs `promise`, which must reject, and returns the error. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe.each(DATABASE_TARGETS)('HierarchyStore contract on $name', (target) => {
  let dataSource: DataSource;
  let close: () => Promise<void>;
  let store: HierarchyStore;

  beforeAll(async () => {
    const database = await target.open();
    close = database.close;
    try {
      dataSource = await openSubgraphDatabase(database.target, HIERARCHY_DATABASE);
    } catch (error) {
      await close();
      throw error;
    }
    store = new PostgresHierarchyStore(dataSource);
  });
  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await close?.();
  });

  /** Inserts an org (created at T0 unless told) and returns its id. */
  async function org(createdAt: Date = at(0)): Promise<string> {
    const id = unique('org');
    await store.insertNode(makeNode('org', id, id, `Org ${id}`, createdAt));
    return id;
  }

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  describe('nodes', () => {
    it.each(['org', 'role', 'team'] as const)(
      'inserts and gets a node of level %s with every field intact',
      async (level) => {
        const orgId = await org();
        const id = level === 'org' ? unique('org') : unique(level);
        const node = makeNode(level, id, orgId, `A ${level} named ${id}`, at(5), {
          focus: 'Ünïcode focus — with "quotes" and \n newlines',
          promotionPrompt: 'Keep what matters.\nDrop the rest.',
          promptMeta: meta({
            generator: 'llm',
            model: 'gpt-test',
            templateVersion: 'llm-v1',
            generatedAt: at(4),
          }),
          updatedAt: at(6),
        });
        await store.insertNode(node);

        expect(await store.getNodes(level, [id])).toEqual([node]);
        const [read] = await store.getNodes(level, [id]);
        expect(read!.createdAt).toBeInstanceOf(Date);
        expect(read!.promptMeta.generatedAt).toBeInstanceOf(Date);
        if (level !== 'org') {
          // A role id is not a team (or org) id: levels are separate namespaces.
          expect(await store.getNodes(level === 'role' ? 'team' : 'role', [id])).toEqual([]);
          expect(await store.getNodes('org', [id])).toEqual([]);
        }
      },
    );

    it('keeps a null prompt model null', async () => {
      const orgId = await org();
      const [read] = await store.getNodes('org', [orgId]);
      expect(read!.promptMeta).toEqual(meta());
      expect(read!.promptMeta.model).toBeNull();
    });

    it('getNodes leaves missing ids out and accepts an empty list', async () => {
      const orgId = await org();
      const role = makeNode('role', unique('role'), orgId, 'Present');
      await store.insertNode(role);

      const found = await store.getNodes('role', ['role-missing-1', role.id, 'role-missing-2']);
      expect(found.map((node) => node.id)).toEqual([role.id]);
      expect(await store.getNodes('role', ['role-missing-1'])).toEqual([]);
      expect(await store.getNodes('role', [])).toEqual([]);
      expect(
        await store.getNodes('org', [orgId, 'org-missing']).then((nodes) => nodes.map((n) => n.id)),
      ).toEqual([orgId]);
    });

    it.each(['role', 'team'] as const)(
      'lists %ss of the given orgs by (createdAt, id) with keyset pagination',
      async (level) => {
        const orgA = await org();
        const orgB = await org();
        // Inserted out of order, with three sharing one timestamp: the id breaks the tie.
        const nodes = [
          makeNode(level, `${level}-c-${unique('x')}`, orgA, 'C', at(10)),
          makeNode(level, `${level}-e-${unique('x')}`, orgA, 'E', at(20)),
          makeNode(level, `${level}-a-${unique('x')}`, orgA, 'A', at(10)),
          makeNode(level, `${level}-z-${unique('x')}`, orgA, 'Z', at(1)),
          makeNode(level, `${level}-b-${unique('x')}`, orgA, 'B', at(10)),
        ];
        for (const node of nodes) await store.insertNode(node);
        const other = makeNode(level, `${level}-other-${unique('x')}`, orgB, 'Other org', at(15));
        await store.insertNode(other);

        const expected = ['Z', 'A', 'B', 'C', 'E'];
        const all = await store.listNodes(level, { first: 100 }, [orgA]);
        expect(all.map((node) => node.name)).toEqual(expected);
        expect(all.every((node) => node.orgId === orgA && node.level === level)).toBe(true);

        const pages: string[][] = [];
        let after: { createdAt: Date; id: string } | undefined;
        for (let i = 0; i < 5; i++) {
          const page = await store.listNodes(level, { first: 2, after }, [orgA]);
          pages.push(page.map((node) => node.name));
          const last = page[page.length - 1];
          if (!last) break;
          after = { createdAt: last.createdAt, id: last.id };
        }
        expect(pages).toEqual([['Z', 'A'], ['B', 'C'], ['E'], []]);

        const both = await store.listNodes(level, { first: 100 }, [orgA, orgB]);
        expect(both.map((node) => node.name)).toEqual(['Z', 'A', 'B', 'C', 'Other org', 'E']);
        expect(await store.listNodes(level, { first: 100 }, [])).toEqual([]);
        expect(await store.listNodes(level, { first: 100 }, ['org-without-anything'])).toEqual([]);
      },
    );

    it('lists orgs by (createdAt, id), restricted to the given ids or all of them', async () => {
      const ids = [
        `org-m-${unique('x')}`,
        `org-b-${unique('x')}`,
        `org-y-${unique('x')}`,
        `org-a-${unique('x')}`,
      ];
      const times = [at(-300), at(-200), at(-200), at(-100)];
      for (let i = 0; i < ids.length; i++) {
        await store.insertNode(makeNode('org', ids[i]!, ids[i]!, `Org ${i}`, times[i]));
      }
      const expected = [ids[0], ids[1], ids[2], ids[3]];

      const restricted = await store.listNodes('org', { first: 10 }, ids);
      expect(restricted.map((node) => node.id)).toEqual(expected);
      const firstPage = await store.listNodes('org', { first: 2 }, ids);
      expect(firstPage.map((node) => node.id)).toEqual(expected.slice(0, 2));
      const last = firstPage[1]!;
      const secondPage = await store.listNodes(
        'org',
        { first: 2, after: { createdAt: last.createdAt, id: last.id } },
        ids,
      );
      expect(secondPage.map((node) => node.id)).toEqual(expected.slice(2));

      // Without ids: every org, in order, no page repeating or skipping one.
      const seen: HierarchyNode[] = [];
      let after: { createdAt: Date; id: string } | undefined;
      for (;;) {
        const page = await store.listNodes('org', { first: 3, after });
        seen.push(...page);
        if (page.length < 3) break;
        after = { createdAt: page[2]!.createdAt, id: page[2]!.id };
      }
      const seenIds = seen.map((node) => node.id);
      expect(new Set(seenIds).size).toBe(seenIds.length);
      const sorted = [...seen].sort(
        (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
      expect(seenIds).toEqual(sorted.map((node) => node.id));
      expect(seenIds.filter((id) => ids.includes(id))).toEqual(expected);
    });

    it('updateNode replaces name, focus and prompt, and returns the stored node', async () => {
      const orgId = await org();
      const role = makeNode('role', unique('role'), orgId, 'Before');
      await store.insertNode(role);
      const patch = {
        name: 'After',
        focus: 'new focus',
        promotionPrompt: 'new prompt',
        promptMeta: meta({ generator: 'llm', model: 'm-2', templateVersion: 'llm-v1', generatedAt: at(100) }),
      };

      const updated = await store.updateNode('role', role.id, orgId, patch);
      expect(updated).toEqual({
        ...role,
        ...patch,
        updatedAt: expect.any(Date),
      });
      expect(updated!.updatedAt.getTime()).not.toBe(role.updatedAt.getTime());
      expect(updated!.createdAt).toEqual(role.createdAt);
      expect(await store.getNodes('role', [role.id])).toEqual([updated]);

      const updatedOrg = await store.updateNode('org', orgId, orgId, { ...patch, name: 'Org renamed' });
      expect(updatedOrg).toMatchObject({
        id: orgId,
        orgId,
        name: 'Org renamed',
        promotionPrompt: 'new prompt',
      });
    });

    it.each(['role', 'team'] as const)(
      'updateNode returns null for a %s of another org (or a missing one) and changes nothing',
      async (level) => {
        const owner = await org();
        const stranger = await org();
        const node = makeNode(level, unique(level), owner, 'Owned');
        await store.insertNode(node);
        const patch = { name: 'Hijacked', focus: 'x', promotionPrompt: 'x', promptMeta: meta() };

        expect(await store.updateNode(level, node.id, stranger, patch)).toBeNull();
        expect(await store.updateNode(level, unique('missing'), owner, patch)).toBeNull();
        expect(await store.getNodes(level, [node.id])).toEqual([node]);
      },
    );

    it('updateNode of a missing org returns null', async () => {
      const id = unique('org');
      expect(
        await store.updateNode('org', id, id, {
          name: 'n',
          focus: '',
          promotionPrompt: 'p',
          promptMeta: meta(),
        }),
      ).toBeNull();
      expect(await store.getNodes('org', [id])).toEqual([]);
    });

    it.each(['role', 'team'] as const)(
      '%s names are unique per org, case-insensitively: ConflictError; another org may reuse them',
      async (level) => {
        const orgA = await org();
        const orgB = await org();
        await store.insertNode(makeNode(level, unique(level), orgA, 'Backend Engineer'));

        const duplicate = makeNode(level, unique(level), orgA, 'backend ENGINEER');
        const error = await rejection(store.insertNode(duplicate));
        expect(error).toBeInstanceOf(ConflictError);
        expect((error as ConflictError).code).toBe('CONFLICT');
        expect(await store.getNodes(level, [duplicate.id])).toEqual([]);

        const elsewhere = makeNode(level, unique(level), orgB, 'Backend Engineer');
        await store.insertNode(elsewhere);
        expect(await store.getNodes(level, [elsewhere.id])).toEqual([elsewhere]);

        // Renaming onto a taken name conflicts too, and leaves the node as it was.
        const second = makeNode(level, unique(level), orgA, 'Frontend Engineer');
        await store.insertNode(second);
        const renamed = await rejection(
          store.updateNode(level, second.id, orgA, {
            name: 'BACKEND engineer',
            focus: '',
            promotionPrompt: 'p',
            promptMeta: meta(),
          }),
        );
        expect(renamed).toBeInstanceOf(ConflictError);
        expect(await store.getNodes(level, [second.id])).toEqual([second]);
      },
    );

    it('roles and teams are independent siblings: a role and a team may share a name', async () => {
      const orgId = await org();
      await store.insertNode(makeNode('role', unique('role'), orgId, 'Platform'));
      const team = makeNode('team', unique('team'), orgId, 'Platform');
      await store.insertNode(team);
      expect(await store.getNodes('team', [team.id])).toEqual([team]);
    });

    it('a taken org id (or node id) is a ConflictError', async () => {
      const orgId = await org();
      const error = await rejection(store.insertNode(makeNode('org', orgId, orgId, 'Again')));
      expect(error).toBeInstanceOf(ConflictError);
      const [stored] = await store.getNodes('org', [orgId]);
      expect(stored!.name).toBe(`Org ${orgId}`);

      const role = makeNode('role', unique('role'), orgId, 'First');
      await store.insertNode(role);
      expect(await rejection(store.insertNode({ ...role, name: 'Second' }))).toBeInstanceOf(ConflictError);
    });
  });

  describe('deleting', () => {
    it('an org removes its roles, teams, actors and API keys, and nothing of other orgs', async () => {
      const orgId = await org();
      const survivor = await org();
      const role = makeNode('role', unique('role'), orgId, 'R');
      const team = makeNode('team', unique('team'), orgId, 'T');
      const survivorRole = makeNode('role', unique('role'), survivor, 'R');
      for (const node of [role, team, survivorRole]) await store.insertNode(node);
      await store.upsertActor({ orgId, actorId: 'u1', roleId: role.id, teamId: team.id, displayName: 'U' });
      await store.upsertActor({
        orgId: survivor,
        actorId: 'u1',
        roleId: null,
        teamId: null,
        displayName: null,
      });
      const key = makeKey(orgId, 'admin');
      const survivorKey = makeKey(survivor, 'member');
      await store.insertApiKey(key, unique('hash'));
      await store.insertApiKey(survivorKey, unique('hash'));

      expect(await store.deleteNode('org', orgId, orgId)).toBe(true);

      expect(await store.getNodes('org', [orgId])).toEqual([]);
      expect(await store.getNodes('role', [role.id])).toEqual([]);
      expect(await store.getNodes('team', [team.id])).toEqual([]);
      expect(await store.listNodes('role', { first: 10 }, [orgId])).toEqual([]);
      expect(await store.getActors([{ orgId, actorId: 'u1' }])).toEqual([]);
      expect(await store.listActors(orgId, { first: 10 })).toEqual([]);
      expect(await store.getApiKey(key.keyId)).toBeNull();
      expect(await store.listApiKeys(orgId)).toEqual([]);

      expect(await store.getNodes('role', [survivorRole.id])).toEqual([survivorRole]);
      expect(await store.getActors([{ orgId: survivor, actorId: 'u1' }])).toHaveLength(1);
      expect(await store.getApiKey(survivorKey.keyId)).toEqual(survivorKey);

      expect(await store.deleteNode('org', orgId, orgId)).toBe(false);
    });

    it('a role clears it from its actors (they keep their team); a team likewise', async () => {
      const orgId = await org();
      const role = makeNode('role', unique('role'), orgId, 'R');
      const team = makeNode('team', unique('team'), orgId, 'T');
      await store.insertNode(role);
      await store.insertNode(team);
      await store.upsertActor({ orgId, actorId: 'both', roleId: role.id, teamId: team.id, displayName: 'B' });
      await store.upsertActor({
        orgId,
        actorId: 'role-only',
        roleId: role.id,
        teamId: null,
        displayName: null,
      });

      expect(await store.deleteNode('role', role.id, orgId)).toBe(true);
      expect(await store.getNodes('role', [role.id])).toEqual([]);
      const afterRole = await store.getActors([
        { orgId, actorId: 'both' },
        { orgId, actorId: 'role-only' },
      ]);
      expect(
        afterRole
          .map(({ actorId, roleId, teamId, displayName }) => ({ actorId, roleId, teamId, displayName }))
          .sort((a, b) => a.actorId.localeCompare(b.actorId)),
      ).toEqual([
        { actorId: 'both', roleId: null, teamId: team.id, displayName: 'B' },
        { actorId: 'role-only', roleId: null, teamId: null, displayName: null },
      ]);

      expect(await store.deleteNode('team', team.id, orgId)).toBe(true);
      const [both] = await store.getActors([{ orgId, actorId: 'both' }]);
      expect(both).toMatchObject({ roleId: null, teamId: null, displayName: 'B' });
      expect(await store.getNodes('org', [orgId])).toHaveLength(1);
    });

    it.each(['role', 'team'] as const)('a %s is only deleted through its own org', async (level) => {
      const owner = await org();
      const stranger = await org();
      const node = makeNode(level, unique(level), owner, 'Mine');
      await store.insertNode(node);

      expect(await store.deleteNode(level, node.id, stranger)).toBe(false);
      expect(await store.getNodes(level, [node.id])).toEqual([node]);
      expect(await store.deleteNode(level, unique('missing'), owner)).toBe(false);
      expect(await store.deleteNode(level, node.id, owner)).toBe(true);
      expect(await store.deleteNode(level, node.id, owner)).toBe(false);
    });
  });

  describe('actors', () => {
    it('upsertActor is idempotent: the same key twice is one row with the newer fields', async () => {
      const orgId = await org();
      const role = makeNode('role', unique('role'), orgId, 'R');
      const team = makeNode('team', unique('team'), orgId, 'T');
      await store.insertNode(role);
      await store.insertNode(team);

      const first = await store.upsertActor({
        orgId,
        actorId: 'user@example.com',
        roleId: role.id,
        teamId: null,
        displayName: 'Ada',
      });
      expect(first).toEqual({
        orgId,
        actorId: 'user@example.com',
        roleId: role.id,
        teamId: null,
        displayName: 'Ada',
        createdAt: expect.any(Date),
        updatedAt: expect.any(Date),
      });

      const second = await store.upsertActor({
        orgId,
        actorId: 'user@example.com',
        roleId: null,
        teamId: team.id,
        displayName: 'Ada L.',
      });
      expect(second).toMatchObject({ roleId: null, teamId: team.id, displayName: 'Ada L.' });
      expect(second.createdAt).toEqual(first.createdAt);
      expect(second.updatedAt.getTime()).toBeGreaterThanOrEqual(first.updatedAt.getTime());

      const listed = await store.listActors(orgId, { first: 10 });
      expect(listed).toEqual([second]);
      expect(await store.getActors([{ orgId, actorId: 'user@example.com' }])).toEqual([second]);
    });

    it('the same actor id in two orgs is two actors', async () => {
      const orgA = await org();
      const orgB = await org();
      await store.upsertActor({
        orgId: orgA,
        actorId: 'shared',
        roleId: null,
        teamId: null,
        displayName: 'A',
      });
      await store.upsertActor({
        orgId: orgB,
        actorId: 'shared',
        roleId: null,
        teamId: null,
        displayName: 'B',
      });
      expect((await store.listActors(orgA, { first: 10 })).map((actor) => actor.displayName)).toEqual(['A']);
      expect((await store.listActors(orgB, { first: 10 })).map((actor) => actor.displayName)).toEqual(['B']);
    });

    it('getActors over several orgs returns exactly the requested (org, actor) pairs', async () => {
      const orgA = await org();
      const orgB = await org();
      const orgC = await org();
      for (const [orgId, actorId] of [
        [orgA, 'u1'],
        [orgA, 'u2'],
        [orgB, 'u1'],
        [orgB, 'u3'],
        [orgC, 'u2'],
      ] as const) {
        await store.upsertActor({
          orgId,
          actorId,
          roleId: null,
          teamId: null,
          displayName: `${orgId}/${actorId}`,
        });
      }

      const found = await store.getActors([
        { orgId: orgA, actorId: 'u1' },
        { orgId: orgB, actorId: 'u3' },
        { orgId: orgA, actorId: 'u3' }, // u3 exists, but not in orgA
        { orgId: orgC, actorId: 'u1' }, // u1 exists, but not in orgC
        { orgId: 'org-nowhere', actorId: 'u2' },
      ]);
      expect(found.map((actor) => `${actor.orgId}/${actor.actorId}`).sort()).toEqual(
        [`${orgA}/u1`, `${orgB}/u3`].sort(),
      );
      expect(found.every((actor) => actor.displayName === `${actor.orgId}/${actor.actorId}`)).toBe(true);
      expect(await store.getActors([])).toEqual([]);
    });

    it('lists the actors of an org by (createdAt, actorId) with keyset pagination', async () => {
      const orgId = await org();
      const other = await org();
      const ids = ['e', 'b', 'd', 'a', 'c'];
      for (const actorId of ids) {
        await store.upsertActor({ orgId, actorId, roleId: null, teamId: null, displayName: null });
      }
      await store.upsertActor({ orgId: other, actorId: 'zz', roleId: null, teamId: null, displayName: null });

      const all = await store.listActors(orgId, { first: 100 });
      expect(all).toHaveLength(5);
      const sorted = [...all].sort(
        (x, y) =>
          x.createdAt.getTime() - y.createdAt.getTime() ||
          (x.actorId < y.actorId ? -1 : x.actorId > y.actorId ? 1 : 0),
      );
      expect(all.map((actor) => actor.actorId)).toEqual(sorted.map((actor) => actor.actorId));

      const paged: string[] = [];
      let after: { createdAt: Date; id: string } | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await store.listActors(orgId, { first: 2, after });
        expect(page.length).toBeLessThanOrEqual(2);
        paged.push(...page.map((actor) => actor.actorId));
        const last = page[page.length - 1];
        if (!last) break;
        after = { createdAt: last.createdAt, id: last.actorId };
      }
      expect(paged).toEqual(all.map((actor) => actor.actorId));
      expect(await store.listActors('org-nowhere', { first: 10 })).toEqual([]);
    });
  });

  describe('API keys', () => {
    it('inserts, finds by hash, gets, lists by org (oldest first) and revokes once', async () => {
      const orgId = await org();
      const otherOrg = await org();
      const older = makeKey(orgId, 'admin', { createdAt: at(1), name: 'older' });
      const newer = makeKey(orgId, 'member', { createdAt: at(2), name: 'newer' });
      const foreign = makeKey(otherOrg, 'admin');
      const olderHash = unique('hash');
      await store.insertApiKey(newer, unique('hash'));
      await store.insertApiKey(older, olderHash);
      await store.insertApiKey(foreign, unique('hash'));

      const found = await store.findApiKeyByHash(olderHash);
      expect(found).toEqual(older);
      expect(found).not.toHaveProperty('keyHash');
      expect(await store.findApiKeyByHash('no-such-hash')).toBeNull();
      expect(await store.getApiKey(newer.keyId)).toEqual(newer);
      expect(await store.getApiKey('key-missing')).toBeNull();
      expect(await store.listApiKeys(orgId)).toEqual([older, newer]);

      expect(await store.revokeApiKey(older.keyId)).toBe(true);
      const revoked = await store.findApiKeyByHash(olderHash);
      expect(revoked).toEqual({ ...older, revokedAt: expect.any(Date) });
      expect(await store.revokeApiKey(older.keyId)).toBe(false);
      expect((await store.findApiKeyByHash(olderHash))!.revokedAt).toEqual(revoked!.revokedAt);
      expect(await store.revokeApiKey('key-missing')).toBe(false);
      expect((await store.getApiKey(newer.keyId))!.revokedAt).toBeNull();
      expect((await store.listApiKeys(orgId)).map((key) => key.revokedAt !== null)).toEqual([true, false]);
    });

    it('refuses a second key with the same hash', async () => {
      const orgId = await org();
      const hash = unique('hash');
      await store.insertApiKey(makeKey(orgId, 'member'), hash);
      const duplicate = makeKey(orgId, 'member');
      await expect(store.insertApiKey(duplicate, hash)).rejects.toThrow();
      expect(await store.getApiKey(duplicate.keyId)).toBeNull();
    });

    it('a platform key has no org; org keys must have one', async () => {
      const platform = makeKey(null, 'platform', { name: 'platform admin key' });
      const hash = unique('hash');
      await store.insertApiKey(platform, hash);
      const found = await store.findApiKeyByHash(hash);
      expect(found).toEqual(platform);
      expect(found!.orgId).toBeNull();

      const orgId = await org();
      expect(await store.listApiKeys(orgId)).toEqual([]);
      const withOrg = makeKey(orgId, 'platform');
      await expect(store.insertApiKey(withOrg, unique('hash'))).rejects.toThrow();
      const orphan = makeKey(null, 'admin');
      await expect(store.insertApiKey(orphan, unique('hash'))).rejects.toThrow();
      expect(await store.getApiKey(withOrg.keyId)).toBeNull();
      expect(await store.getApiKey(orphan.keyId)).toBeNull();
    });
  });
});
