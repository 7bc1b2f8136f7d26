import {
  ACTOR_FIELDS,
  createTenant,
  expectData,
  expectError,
  ORG_FIELDS,
  ROLE_FIELDS,
  sleep,
  snapshotOrg,
  TEAM_FIELDS,
  type Tenant,
} from '../support/hierarchy-fixtures';
import { createOrgWithKeys, startTestStack, type TestStack } from '../support/stack';

/**
 * Seed 000 (the onboarding hierarchy guide) end to end through the gateway: the guide's
 * example with its own values, actors, deletion cascades, and bad input with stable codes.
 */

const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const CREATE_ORG = `mutation($input: CreateOrgInput!) { createOrg(input: $input) { ${ORG_FIELDS} } }`;
const GET_ORG = `query($orgId: ID) { org(orgId: $orgId) { ${ORG_FIELDS} } }`;
const UPDATE_ORG = `mutation($orgId: ID, $input: UpdateHierarchyInput!) {
  updateOrg(orgId: $orgId, input: $input) { ${ORG_FIELDS} } }`;
const REGENERATE_ORG = `mutation($orgId: ID) { regenerateOrgPrompt(orgId: $orgId) { ${ORG_FIELDS} } }`;
const DELETE_ORG = `mutation($orgId: ID) { deleteOrg(orgId: $orgId) }`;
const UPSERT_ACTOR = `mutation($input: UpsertActorInput!) {
  upsertActor(input: $input) { ${ACTOR_FIELDS} role { roleId name } team { teamId name } } }`;
const GET_ACTOR = `query($actorId: ID!, $orgId: ID) {
  actor(actorId: $actorId, orgId: $orgId) { ${ACTOR_FIELDS} role { roleId name } team { teamId name } } }`;
const LIST_ACTORS = `query($orgId: ID, $first: Int, $after: String) {
  actors(orgId: $orgId, first: $first, after: $after) {
    nodes { actorId } edges { cursor node { actorId } } pageInfo { hasNextPage endCursor } } }`;

/** The CRUD documents of a role or a team: the two levels have the same operations (seed 000). */
function levelDocuments(level: 'role' | 'team') {
  const Kind = level === 'role' ? 'Role' : 'Team';
  const fields = level === 'role' ? ROLE_FIELDS : TEAM_FIELDS;
  const id = `${level}Id`;
  return {
    create: `mutation($input: CreateLevelInput!) { create${Kind}(input: $input) { ${fields} } }`,
    list: `query($orgId: ID, $first: Int, $after: ID) { ${level}s(orgId: $orgId, first: $first, after: $after) { ${fields} } }`,
    get: `query($id: ID!, $orgId: ID) { ${level}(${id}: $id, orgId: $orgId) { ${fields} } }`,
    update: `mutation($id: ID!, $orgId: ID, $input: UpdateHierarchyInput!) {
      update${Kind}(${id}: $id, orgId: $orgId, input: $input) { ${fields} } }`,
    regenerate: `mutation($id: ID!, $orgId: ID) { regenerate${Kind}Prompt(${id}: $id, orgId: $orgId) { ${fields} } }`,
    delete: `mutation($id: ID!, $orgId: ID) { delete${Kind}(${id}: $id, orgId: $orgId) }`,
  };
}
const ROLE = levelDocuments('role');
const TEAM = levelDocuments('team');

function expectTemplateMeta(meta: Record<string, unknown>) {
  expect(meta).toEqual({
    generator: 'template',
    model: null,
    templateVersion: expect.stringMatching(/\S/),
    generatedAt: expect.stringMatching(ISO_DATE),
  });
}

describe('hierarchy (seed 000) through the gateway', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(() => stack?.close());

  describe('the seed example, step by step', () => {
    // The guide's calls, in the guide's order, with the guide's values.
    const orgId = 'my-org';
    let platform: string;
    let adminKey: string;
    let created: Record<string, any>;
    let updated: Record<string, any>;

    beforeAll(async () => {
      platform = stack.adminKey;
    });

    it('createOrg returns a promotion prompt built from the name and focus', async () => {
      const before = Date.now();
      const res = await stack.gql(
        CREATE_ORG,
        { input: { orgId, name: 'Acme Inc', focus: 'B2B SaaS company building developer tools' } },
        platform,
      );
      created = expectData(res).createOrg;
      expect(created).toMatchObject({
        orgId,
        name: 'Acme Inc',
        focus: 'B2B SaaS company building developer tools',
      });
      expect(created.promotionPrompt).toContain('Acme Inc');
      expect(created.promotionPrompt).toContain('B2B SaaS company building developer tools');
      expectTemplateMeta(created.promptMeta);
      expect(created.createdAt).toMatch(ISO_DATE);
      expect(created.updatedAt).toBe(created.createdAt);
      expect(Date.parse(created.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(created.createdAt)).toBeLessThanOrEqual(Date.now() + 1000);

      const keys = await stack.gql(
        `mutation { createApiKey(orgId: "${orgId}", admin: true, name: "sdk") { key apiKey { orgId admin role } } }`,
        {},
        platform,
      );
      expect(expectData(keys).createApiKey.apiKey).toEqual({ orgId, admin: true, role: 'admin' });
      adminKey = keys.data!.createApiKey.key;
      expect(adminKey).toMatch(/^msy_/);
    });

    it('orgs lists it and org(orgId) returns the same object', async () => {
      const list = expectData(await stack.gql(`{ orgs(first: 500) { ${ORG_FIELDS} } }`, {}, platform));
      expect(list.orgs.filter((org: { orgId: string }) => org.orgId === orgId)).toEqual([created]);
      // An org key sees exactly its own org.
      expect(expectData(await stack.gql(`{ orgs { orgId } }`, {}, adminKey)).orgs).toEqual([{ orgId }]);

      expect(expectData(await stack.gql(GET_ORG, { orgId }, platform)).org).toEqual(created);
      expect(expectData(await stack.gql(GET_ORG, { orgId }, adminKey)).org).toEqual(created);
      // With a key of the org, orgId may be omitted.
      expect(expectData(await stack.gql(GET_ORG, {}, adminKey)).org).toEqual(created);
    });

    it('updateOrg changes name and focus, the prompt, promptMeta.generatedAt and updatedAt', async () => {
      await sleep(5);
      const res = await stack.gql(
        UPDATE_ORG,
        { orgId, input: { name: 'Acme Corp', focus: 'Updated focus' } },
        adminKey,
      );
      updated = expectData(res).updateOrg;
      expect(updated).toMatchObject({ orgId, name: 'Acme Corp', focus: 'Updated focus' });
      expect(updated.promotionPrompt).not.toBe(created.promotionPrompt);
      expect(updated.promotionPrompt).toContain('Acme Corp');
      expect(updated.promotionPrompt).toContain('Updated focus');
      expect(updated.promotionPrompt).not.toContain('Acme Inc');
      expectTemplateMeta(updated.promptMeta);
      expect(Date.parse(updated.promptMeta.generatedAt)).toBeGreaterThan(
        Date.parse(created.promptMeta.generatedAt),
      );
      expect(Date.parse(updated.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
      expect(updated.createdAt).toBe(created.createdAt);
      // What the mutation returned is what was stored.
      expect(expectData(await stack.gql(GET_ORG, { orgId }, adminKey)).org).toEqual(updated);
    });

    it('updateOrg with the same name and focus changes nothing', async () => {
      await sleep(5);
      const res = await stack.gql(
        UPDATE_ORG,
        { orgId, input: { name: 'Acme Corp', focus: 'Updated focus' } },
        adminKey,
      );
      expect(expectData(res).updateOrg).toEqual(updated);
      // Leaving both out is the same as repeating them.
      expect(expectData(await stack.gql(UPDATE_ORG, { orgId, input: {} }, adminKey)).updateOrg).toEqual(
        updated,
      );
      expect(expectData(await stack.gql(GET_ORG, { orgId }, adminKey)).org).toEqual(updated);
    });

    it('regenerateOrgPrompt rebuilds the prompt from the current name and focus', async () => {
      await sleep(5);
      const res = expectData(await stack.gql(REGENERATE_ORG, { orgId }, adminKey)).regenerateOrgPrompt;
      expect(res).toMatchObject({
        orgId,
        name: 'Acme Corp',
        focus: 'Updated focus',
        createdAt: created.createdAt,
      });
      expect(res.promotionPrompt).toContain('Acme Corp');
      expect(res.promotionPrompt).toContain('Updated focus');
      expectTemplateMeta(res.promptMeta);
      expect(Date.parse(res.promptMeta.generatedAt)).toBeGreaterThan(
        Date.parse(updated.promptMeta.generatedAt),
      );
      expect(expectData(await stack.gql(GET_ORG, { orgId }, adminKey)).org).toEqual(res);
      updated = res;
    });

    describe.each([
      {
        level: 'role' as const,
        docs: ROLE,
        name: 'Backend Engineer',
        focus: 'Python, distributed systems, Postgres',
        update: { focus: 'Updated focus for the role' },
      },
      {
        level: 'team' as const,
        docs: TEAM,
        name: 'Platform Team',
        focus: 'Infrastructure, CI/CD, reliability',
        update: { name: 'Platform & Infra' },
      },
    ])('$level CRUD', ({ level, docs, name, focus, update }) => {
      const Kind = level === 'role' ? 'Role' : 'Team';
      const idField = `${level}Id`;
      let node: Record<string, any>;
      let afterUpdate: Record<string, any>;

      it(`create${Kind} assigns a ${level}_ id and a prompt that mentions the org's focus`, async () => {
        const res = await stack.gql(docs.create, { input: { orgId, name, focus } }, adminKey);
        node = expectData(res)[`create${Kind}`];
        expect(node[idField]).toMatch(new RegExp(`^${level}_[a-z0-9]+$`));
        expect(node).toMatchObject({ orgId, name, focus });
        expect(node.promotionPrompt).toContain(name);
        expect(node.promotionPrompt).toContain(focus);
        // The prompt is framed by the org it belongs to (its current name and focus).
        expect(node.promotionPrompt).toContain('Updated focus');
        expect(node.promotionPrompt).toContain('Acme Corp');
        expectTemplateMeta(node.promptMeta);
        expect(node.updatedAt).toBe(node.createdAt);
      });

      it(`${level}s lists it and ${level}(id) returns it`, async () => {
        expect(expectData(await stack.gql(docs.list, { orgId }, adminKey))[`${level}s`]).toEqual([node]);
        expect(expectData(await stack.gql(docs.get, { id: node[idField], orgId }, adminKey))[level]).toEqual(
          node,
        );
      });

      it(`update${Kind} changes only the given field and regenerates the prompt`, async () => {
        await sleep(5);
        const res = await stack.gql(docs.update, { id: node[idField], orgId, input: update }, adminKey);
        afterUpdate = expectData(res)[`update${Kind}`];
        expect(afterUpdate).toMatchObject({
          [idField]: node[idField],
          orgId,
          name: update.name ?? name,
          focus: update.focus ?? focus,
          createdAt: node.createdAt,
        });
        expect(afterUpdate.promotionPrompt).not.toBe(node.promotionPrompt);
        expect(afterUpdate.promotionPrompt).toContain(update.name ?? update.focus);
        expect(Date.parse(afterUpdate.promptMeta.generatedAt)).toBeGreaterThan(
          Date.parse(node.promptMeta.generatedAt),
        );
        expect(Date.parse(afterUpdate.updatedAt)).toBeGreaterThan(Date.parse(node.updatedAt));
        expect(expectData(await stack.gql(docs.get, { id: node[idField], orgId }, adminKey))[level]).toEqual(
          afterUpdate,
        );
      });

      it(`update${Kind} with the same name and focus leaves prompt and timestamps alone`, async () => {
        await sleep(5);
        const same = { name: afterUpdate.name, focus: afterUpdate.focus };
        const res = await stack.gql(docs.update, { id: node[idField], orgId, input: same }, adminKey);
        expect(expectData(res)[`update${Kind}`]).toEqual(afterUpdate);
        expect(expectData(await stack.gql(docs.get, { id: node[idField], orgId }, adminKey))[level]).toEqual(
          afterUpdate,
        );
      });

      it(`regenerate${Kind}Prompt writes a new prompt from the current name and focus`, async () => {
        await sleep(5);
        const res = await stack.gql(docs.regenerate, { id: node[idField], orgId }, adminKey);
        const regenerated = expectData(res)[`regenerate${Kind}Prompt`];
        expect(regenerated).toMatchObject({ name: afterUpdate.name, focus: afterUpdate.focus });
        expect(regenerated.promotionPrompt).toContain(afterUpdate.name);
        expectTemplateMeta(regenerated.promptMeta);
        expect(Date.parse(regenerated.promptMeta.generatedAt)).toBeGreaterThan(
          Date.parse(afterUpdate.promptMeta.generatedAt),
        );
        expect(expectData(await stack.gql(docs.get, { id: node[idField], orgId }, adminKey))[level]).toEqual(
          regenerated,
        );
      });

      it(`delete${Kind} removes it`, async () => {
        const res = await stack.gql(docs.delete, { id: node[idField], orgId }, adminKey);
        expect(expectData(res)[`delete${Kind}`]).toBe(true);
        expectError(await stack.gql(docs.get, { id: node[idField], orgId }, adminKey), 'NOT_FOUND');
        expect(expectData(await stack.gql(docs.list, { orgId }, adminKey))[`${level}s`]).toEqual([]);
        // Deleting it again: it is gone.
        expectError(await stack.gql(docs.delete, { id: node[idField], orgId }, adminKey), 'NOT_FOUND');
      });
    });

    it('deleteOrg deletes the org', async () => {
      expect(expectData(await stack.gql(DELETE_ORG, { orgId }, platform)).deleteOrg).toBe(true);
      expectError(await stack.gql(GET_ORG, { orgId }, platform), 'NOT_FOUND');
      expectError(await stack.gql(GET_ORG, {}, adminKey), 'UNAUTHENTICATED');
    });
  });

  describe('roles and teams are independent siblings', () => {
    it('Org.roles and Org.teams list each level separately', async () => {
      const { adminKey } = await createOrgWithKeys(stack, 'siblings');
      const roleA = expectData(await stack.gql(ROLE.create, { input: { name: 'Sales Rep' } }, adminKey))
        .createRole.roleId;
      const team = expectData(
        await stack.gql(
          TEAM.create,
          { input: { name: 'Enterprise Sales', focus: 'Big accounts' } },
          adminKey,
        ),
      ).createTeam.teamId;
      const roleB = expectData(
        await stack.gql(ROLE.create, { input: { name: 'Frontend Engineer', focus: 'React' } }, adminKey),
      ).createRole.roleId;
      // A role and a team may share a name: they are different levels.
      const teamNamedLikeRole = expectData(
        await stack.gql(TEAM.create, { input: { name: 'Sales Rep' } }, adminKey),
      ).createTeam.teamId;

      const res = expectData(
        await stack.gql(`{ org { roles { roleId name focus } teams { teamId name } } }`, {}, adminKey),
      );
      expect(res.org.roles).toEqual([
        { roleId: roleA, name: 'Sales Rep', focus: '' },
        { roleId: roleB, name: 'Frontend Engineer', focus: 'React' },
      ]);
      expect(res.org.teams).toEqual([
        { teamId: team, name: 'Enterprise Sales' },
        { teamId: teamNamedLikeRole, name: 'Sales Rep' },
      ]);
      // `first` limits the nested lists, oldest first.
      const limited = expectData(await stack.gql(`{ org { roles(first: 1) { roleId } } }`, {}, adminKey));
      expect(limited.org.roles).toEqual([{ roleId: roleA }]);
      // A role id is not a team id.
      expectError(await stack.gql(TEAM.get, { id: roleA }, adminKey), 'NOT_FOUND');
      expectError(await stack.gql(ROLE.get, { id: team }, adminKey), 'NOT_FOUND');
    });

    it('roles and teams paginate with first/after, oldest first', async () => {
      const { adminKey } = await createOrgWithKeys(stack, 'paging-levels');
      const ids: string[] = [];
      for (const name of ['One', 'Two', 'Three', 'Four', 'Five']) {
        ids.push(expectData(await stack.gql(ROLE.create, { input: { name } }, adminKey)).createRole.roleId);
      }
      const first = expectData(await stack.gql(ROLE.list, { first: 2 }, adminKey)).roles;
      expect(first.map((r: { roleId: string }) => r.roleId)).toEqual(ids.slice(0, 2));
      const second = expectData(await stack.gql(ROLE.list, { first: 2, after: ids[1] }, adminKey)).roles;
      expect(second.map((r: { roleId: string }) => r.roleId)).toEqual(ids.slice(2, 4));
      const last = expectData(await stack.gql(ROLE.list, { first: 2, after: ids[3] }, adminKey)).roles;
      expect(last.map((r: { roleId: string }) => r.roleId)).toEqual(ids.slice(4));
      const none = expectData(await stack.gql(ROLE.list, { first: 2, after: ids[4] }, adminKey)).roles;
      expect(none).toEqual([]);
      expectError(await stack.gql(ROLE.list, { after: 'role_unknown' }, adminKey), 'NOT_FOUND');
    });
  });

  describe('actors', () => {
    let tenant: Tenant;
    const roleOf = async (key: string, name: string) =>
      expectData(await stack.gql(ROLE.create, { input: { name } }, key)).createRole.roleId as string;
    const teamOf = async (key: string, name: string) =>
      expectData(await stack.gql(TEAM.create, { input: { name } }, key)).createTeam.teamId as string;

    beforeAll(async () => {
      tenant = await createTenant(stack, 'actors-org');
    });

    it('upsertActor tags an actor with a role and a team at the same time, then with neither', async () => {
      const { adminKey, memberKey, orgId, roleId, teamId } = tenant;
      const input = { orgId, actorId: 'user_42', roleId, teamId, displayName: 'Ada' };
      const created = expectData(await stack.gql(UPSERT_ACTOR, { input }, memberKey)).upsertActor;
      expect(created).toMatchObject({
        actorId: 'user_42',
        orgId,
        roleId,
        teamId,
        displayName: 'Ada',
        role: { roleId, name: 'Backend Engineer' },
        team: { teamId, name: 'Platform Team' },
      });
      expect(created.createdAt).toMatch(ISO_DATE);

      const read = expectData(await stack.gql(GET_ACTOR, { actorId: 'user_42' }, adminKey)).actor;
      expect(read).toEqual(created);

      await sleep(5);
      const cleared = expectData(
        await stack.gql(UPSERT_ACTOR, { input: { actorId: 'user_42', displayName: 'Ada L.' } }, memberKey),
      ).upsertActor;
      expect(cleared).toMatchObject({
        actorId: 'user_42',
        orgId,
        roleId: null,
        teamId: null,
        role: null,
        team: null,
        displayName: 'Ada L.',
        createdAt: created.createdAt,
      });
      expect(Date.parse(cleared.updatedAt)).toBeGreaterThan(Date.parse(created.updatedAt));
      expect(expectData(await stack.gql(GET_ACTOR, { actorId: 'user_42', orgId }, memberKey)).actor).toEqual(
        cleared,
      );
      // Still one actor, not two.
      const page = expectData(await stack.gql(LIST_ACTORS, { orgId }, adminKey)).actors;
      expect(page.nodes.filter((n: { actorId: string }) => n.actorId === 'user_42')).toHaveLength(1);
    });

    it('actors paginates with first/after and pageInfo, oldest first, without gaps or repeats', async () => {
      const { adminKey } = await createOrgWithKeys(stack, 'actors-paging');
      const expected = ['u-1', 'u-2', 'u-3', 'u-4', 'u-5'];
      for (const actorId of expected) {
        expectData(await stack.gql(UPSERT_ACTOR, { input: { actorId } }, adminKey));
      }
      const seen: string[] = [];
      let after: string | null = null;
      const pages: boolean[] = [];
      for (let i = 0; i < 5; i += 1) {
        const page: any = expectData(await stack.gql(LIST_ACTORS, { first: 2, after }, adminKey)).actors;
        expect(page.edges.map((e: any) => e.node.actorId)).toEqual(page.nodes.map((n: any) => n.actorId));
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
        seen.push(...page.nodes.map((n: { actorId: string }) => n.actorId));
        pages.push(page.pageInfo.hasNextPage);
        if (!page.pageInfo.hasNextPage) break;
        after = page.pageInfo.endCursor;
      }
      expect(seen).toEqual(expected);
      expect(pages).toEqual([true, true, false]);
      // An exact fit says there is nothing more.
      const all = expectData(await stack.gql(LIST_ACTORS, { first: 5 }, adminKey)).actors;
      expect(all.pageInfo.hasNextPage).toBe(false);
      expect(all.nodes).toHaveLength(5);
      // Updating an actor does not move it in the order.
      expectData(await stack.gql(UPSERT_ACTOR, { input: { actorId: 'u-1', displayName: 'x' } }, adminKey));
      const again = expectData(await stack.gql(LIST_ACTORS, { first: 500 }, adminKey)).actors;
      expect(again.nodes.map((n: { actorId: string }) => n.actorId)).toEqual(expected);
      expectError(await stack.gql(LIST_ACTORS, { after: 'not a cursor' }, adminKey), 'BAD_USER_INPUT');
    });

    it('deleting a role clears roleId from its actors, who keep existing with their team', async () => {
      const { adminKey } = tenant;
      const roleId = await roleOf(adminKey, 'Support Agent');
      const teamId = await teamOf(adminKey, 'Support Team');
      for (const actorId of ['role-a', 'role-b']) {
        expectData(await stack.gql(UPSERT_ACTOR, { input: { actorId, roleId, teamId } }, adminKey));
      }
      expect(expectData(await stack.gql(ROLE.delete, { id: roleId }, adminKey)).deleteRole).toBe(true);
      for (const actorId of ['role-a', 'role-b']) {
        const actor = expectData(await stack.gql(GET_ACTOR, { actorId }, adminKey)).actor;
        expect(actor).toMatchObject({ actorId, roleId: null, role: null, teamId, team: { teamId } });
      }
      // The deleted role can no longer be given to an actor.
      expectError(
        await stack.gql(UPSERT_ACTOR, { input: { actorId: 'role-a', roleId } }, adminKey),
        'NOT_FOUND',
      );
    });

    it('deleting a team clears teamId from its actors, who keep existing with their role', async () => {
      const { adminKey } = tenant;
      const roleId = await roleOf(adminKey, 'Account Manager');
      const teamId = await teamOf(adminKey, 'Customer: Globex');
      expectData(await stack.gql(UPSERT_ACTOR, { input: { actorId: 'team-a', roleId, teamId } }, adminKey));
      expect(expectData(await stack.gql(TEAM.delete, { id: teamId }, adminKey)).deleteTeam).toBe(true);
      const actor = expectData(await stack.gql(GET_ACTOR, { actorId: 'team-a' }, adminKey)).actor;
      expect(actor).toMatchObject({ actorId: 'team-a', teamId: null, team: null, roleId, role: { roleId } });
    });

    it('upsertActor refuses a role or team of another org with NOT_FOUND and stores nothing', async () => {
      const other = await createTenant(stack, 'actors-other');
      const { adminKey, orgId, roleId, teamId } = tenant;
      const before = await snapshotOrg(stack, orgId, adminKey);
      expectError(
        await stack.gql(
          UPSERT_ACTOR,
          { input: { actorId: tenant.actorId, roleId: other.roleId, teamId } },
          adminKey,
        ),
        'NOT_FOUND',
      );
      expectError(
        await stack.gql(
          UPSERT_ACTOR,
          { input: { actorId: 'newcomer', roleId, teamId: other.teamId } },
          adminKey,
        ),
        'NOT_FOUND',
      );
      expectError(
        await stack.gql(
          UPSERT_ACTOR,
          { input: { actorId: 'newcomer', roleId: 'role_doesnotexist' } },
          adminKey,
        ),
        'NOT_FOUND',
      );
      expect(await snapshotOrg(stack, orgId, adminKey)).toEqual(before);
      expectError(await stack.gql(GET_ACTOR, { actorId: 'newcomer' }, adminKey), 'NOT_FOUND');
      // The other org's actor with the same id is a different actor, untouched.
      expect(
        expectData(await stack.gql(GET_ACTOR, { actorId: other.actorId }, other.adminKey)).actor,
      ).toMatchObject({ roleId: other.roleId, teamId: other.teamId });
    });

    it('deleteOrg removes its roles, teams, actors and keys', async () => {
      const doomed = await createTenant(stack, 'doomed-org');
      // The keys work before.
      expect(expectData(await stack.gql(`{ viewer { orgId } }`, {}, doomed.memberKey)).viewer.orgId).toBe(
        'doomed-org',
      );
      expect(expectData(await stack.gql(DELETE_ORG, {}, doomed.adminKey)).deleteOrg).toBe(true);

      for (const key of [doomed.adminKey, doomed.memberKey, doomed.spareKey]) {
        const res = await stack.gql(`{ viewer { orgId } }`, {}, key);
        expectError(res, 'UNAUTHENTICATED');
        expect(res.status).toBe(401);
      }
      const platform = stack.adminKey;
      expectError(await stack.gql(GET_ORG, { orgId: 'doomed-org' }, platform), 'NOT_FOUND');
      expectError(
        await stack.gql(ROLE.get, { id: doomed.roleId, orgId: 'doomed-org' }, platform),
        'NOT_FOUND',
      );
      expectError(
        await stack.gql(TEAM.get, { id: doomed.teamId, orgId: 'doomed-org' }, platform),
        'NOT_FOUND',
      );
      expectError(
        await stack.gql(GET_ACTOR, { actorId: doomed.actorId, orgId: 'doomed-org' }, platform),
        'NOT_FOUND',
      );
      expectError(await stack.gql(DELETE_ORG, { orgId: 'doomed-org' }, platform), 'NOT_FOUND');
      const orgs = expectData(await stack.gql(`{ orgs(first: 500) { orgId } }`, {}, platform)).orgs;
      expect(orgs.map((o: { orgId: string }) => o.orgId)).not.toContain('doomed-org');

      // Re-creating an org with the same id starts empty: nothing of the old one survived.
      const fresh = await createOrgWithKeys(stack, 'doomed-org');
      const snapshot = await snapshotOrg(stack, 'doomed-org', platform);
      expect(snapshot.org.roles).toEqual([]);
      expect(snapshot.org.teams).toEqual([]);
      expect(snapshot.actors.nodes).toEqual([]);
      expect(snapshot.apiKeys.map((k: { keyId: string }) => k.keyId).sort()).toEqual(
        [fresh.adminKeyId, fresh.memberKeyId].sort(),
      );
      // The old keys stay dead for the new org of the same id.
      expectError(await stack.gql(`{ viewer { orgId } }`, {}, doomed.adminKey), 'UNAUTHENTICATED');
    });
  });

  describe('bad input gets stable codes and changes nothing', () => {
    let tenant: Tenant;
    let before: Record<string, any>;
    const platform = () => stack.adminKey;

    beforeAll(async () => {
      tenant = await createTenant(stack, 'bad-input');
      before = await snapshotOrg(stack, tenant.orgId, tenant.adminKey);
    });

    afterEach(async () => {
      // Whatever failed, what was stored for the org is unchanged.
      expect(await snapshotOrg(stack, tenant.orgId, tenant.adminKey)).toEqual(before);
    });

    const badNames: Array<[string, string]> = [
      ['an empty name', ''],
      ['a whitespace-only name', ' \t\n '],
      ['a 10 kB name', 'n'.repeat(10_000)],
    ];

    it.each(badNames)('%s is BAD_USER_INPUT for create and update of every level', async (_label, name) => {
      const { adminKey, roleId, teamId } = tenant;
      const attempts = [
        stack.gql(CREATE_ORG, { input: { orgId: 'never-created', name } }, platform()),
        stack.gql(UPDATE_ORG, { input: { name } }, adminKey),
        stack.gql(ROLE.create, { input: { name } }, adminKey),
        stack.gql(ROLE.update, { id: roleId, input: { name } }, adminKey),
        stack.gql(TEAM.create, { input: { name } }, adminKey),
        stack.gql(TEAM.update, { id: teamId, input: { name } }, adminKey),
      ];
      for (const res of await Promise.all(attempts)) {
        const error = expectError(res, 'BAD_USER_INPUT');
        expect(error.message).toMatch(/name/);
      }
      expectError(await stack.gql(GET_ORG, { orgId: 'never-created' }, platform()), 'NOT_FOUND');
    });

    it('a focus over the limit is BAD_USER_INPUT', async () => {
      const focus = 'f'.repeat(10_000);
      expectError(await stack.gql(UPDATE_ORG, { input: { focus } }, tenant.adminKey), 'BAD_USER_INPUT');
      expectError(
        await stack.gql(ROLE.create, { input: { name: 'Long Focus', focus } }, tenant.adminKey),
        'BAD_USER_INPUT',
      );
    });

    it.each([
      ['with a space and capitals', 'My Org'],
      ['starting with a hyphen', '-x'],
      ['ending with a hyphen', 'x-'],
      ['with an underscore', 'a_b'],
      ['of 64 characters', 'a'.repeat(64)],
      ['empty', ''],
    ])('an org id %s is BAD_USER_INPUT', async (_label, orgId) => {
      const res = await stack.gql(CREATE_ORG, { input: { orgId, name: 'Bad Id' } }, platform());
      expect(expectError(res, 'BAD_USER_INPUT').extensions).toMatchObject({ field: 'orgId' });
      const orgs = expectData(await stack.gql(`{ orgs(first: 500) { orgId name } }`, {}, platform())).orgs;
      expect(orgs.filter((o: { name: string }) => o.name === 'Bad Id')).toEqual([]);
    });

    it('an org id of 63 characters is accepted (the limit is inclusive)', async () => {
      const orgId = `a${'0'.repeat(61)}z`;
      const res = await stack.gql(CREATE_ORG, { input: { orgId, name: 'Long Id' } }, platform());
      expect(expectData(res).createOrg.orgId).toBe(orgId);
    });

    it('a duplicate org id is CONFLICT and the existing org keeps its name', async () => {
      const res = await stack.gql(
        CREATE_ORG,
        { input: { orgId: tenant.orgId, name: 'Impostor', focus: 'other' } },
        platform(),
      );
      expectError(res, 'CONFLICT');
    });

    it('a duplicate role or team name in an org is CONFLICT, case-insensitively', async () => {
      const { adminKey } = tenant;
      // createTenant made "Backend Engineer" and "Platform Team".
      for (const name of ['Backend Engineer', 'backend engineer', '  BACKEND ENGINEER  ']) {
        expectError(await stack.gql(ROLE.create, { input: { name } }, adminKey), 'CONFLICT');
      }
      expectError(await stack.gql(TEAM.create, { input: { name: 'platform team' } }, adminKey), 'CONFLICT');
    });

    it('renaming a role or team onto an existing name is CONFLICT and leaves both as they were', async () => {
      const other = await createTenant(stack, 'bad-input-rename');
      // In another org the same names are fine (already made by createTenant): uniqueness is per org.
      const roleId = expectData(
        await stack.gql(ROLE.create, { input: { name: 'Data Engineer' } }, other.adminKey),
      ).createRole.roleId;
      expectError(
        await stack.gql(ROLE.update, { id: roleId, input: { name: 'BACKEND engineer' } }, other.adminKey),
        'CONFLICT',
      );
      expect(expectData(await stack.gql(ROLE.get, { id: roleId }, other.adminKey)).role.name).toBe(
        'Data Engineer',
      );
      const teamId = expectData(await stack.gql(TEAM.create, { input: { name: 'Ops Team' } }, other.adminKey))
        .createTeam.teamId;
      expectError(
        await stack.gql(
          TEAM.update,
          { id: teamId, input: { name: 'PLATFORM TEAM', focus: 'x' } },
          other.adminKey,
        ),
        'CONFLICT',
      );
      expect(expectData(await stack.gql(TEAM.get, { id: teamId }, other.adminKey)).team).toMatchObject({
        name: 'Ops Team',
        focus: '',
      });
    });
    it('unknown org, role and team ids are NOT_FOUND in get, update, regenerate and delete', async () => {
      const { adminKey, orgId } = tenant;
      const unknownOrg = { orgId: 'no-such-org' };
      const orgAttempts = [
        stack.gql(GET_ORG, unknownOrg, platform()),
        stack.gql(UPDATE_ORG, { ...unknownOrg, input: { name: 'X' } }, platform()),
        stack.gql(REGENERATE_ORG, unknownOrg, platform()),
        stack.gql(DELETE_ORG, unknownOrg, platform()),
        stack.gql(ROLE.create, { input: { ...unknownOrg, name: 'X' } }, platform()),
        stack.gql(TEAM.create, { input: { ...unknownOrg, name: 'X' } }, platform()),
        stack.gql(UPSERT_ACTOR, { input: { ...unknownOrg, actorId: 'x' } }, platform()),
        stack.gql(`mutation { createApiKey(orgId: "no-such-org", admin: false) { keyId } }`, {}, platform()),
        stack.gql(`mutation { revokeApiKey(keyId: "key_doesnotexist") }`, {}, adminKey),
        stack.gql(GET_ACTOR, { actorId: 'nobody' }, adminKey),
        // Lists of an unknown org are NOT_FOUND too, not an empty list.
        stack.gql(ROLE.list, unknownOrg, platform()),
        stack.gql(TEAM.list, unknownOrg, platform()),
        stack.gql(`{ actors(orgId: "no-such-org") { nodes { actorId } } }`, {}, platform()),
        stack.gql(`{ apiKeys(orgId: "no-such-org") { keyId } }`, {}, platform()),
      ];
      for (const [level, docs] of [
        ['role', ROLE],
        ['team', TEAM],
      ] as const) {
        const id = `${level}_doesnotexist`;
        orgAttempts.push(
          stack.gql(docs.get, { id }, adminKey),
          stack.gql(docs.update, { id, input: { name: 'X' } }, adminKey),
          stack.gql(docs.regenerate, { id, orgId }, adminKey),
          stack.gql(docs.delete, { id, orgId }, adminKey),
          // A known id in an unknown org, with the platform key.
          stack.gql(
            docs.get,
            { id: level === 'role' ? tenant.roleId : tenant.teamId, ...unknownOrg },
            platform(),
          ),
        );
      }
      for (const res of await Promise.all(orgAttempts)) expectError(res, 'NOT_FOUND');
      const orgs = expectData(await stack.gql(`{ orgs(first: 500) { orgId } }`, {}, platform())).orgs;
      expect(orgs.map((o: { orgId: string }) => o.orgId)).not.toContain('no-such-org');
    });

    it.each([0, -1, 501, 10_000])('first: %p is BAD_USER_INPUT on every list', async (first) => {
      const { adminKey } = tenant;
      const attempts = [
        stack.gql(`query($first: Int) { orgs(first: $first) { orgId } }`, { first }, adminKey),
        stack.gql(ROLE.list, { first }, adminKey),
        stack.gql(TEAM.list, { first }, adminKey),
        stack.gql(LIST_ACTORS, { first }, adminKey),
        stack.gql(`query($first: Int) { org { roles(first: $first) { roleId } } }`, { first }, adminKey),
        stack.gql(`query($first: Int) { org { teams(first: $first) { teamId } } }`, { first }, adminKey),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(expectError(res, 'BAD_USER_INPUT').message).toMatch(/first/);
      }
    });

    it('first: 500 (the maximum) is accepted', async () => {
      const res = expectData(
        await stack.gql(
          `{ orgs(first: 500) { orgId } roles(first: 500) { roleId } teams(first: 500) { teamId }
             actors(first: 500) { nodes { actorId } } }`,
          {},
          tenant.adminKey,
        ),
      );
      expect(res.orgs).toEqual([{ orgId: tenant.orgId }]);
      expect(res.roles).toEqual([{ roleId: tenant.roleId }]);
      expect(res.teams).toEqual([{ teamId: tenant.teamId }]);
      expect(res.actors.nodes).toEqual([{ actorId: tenant.actorId }]);
    });

    it('an invalid actor id is BAD_USER_INPUT', async () => {
      for (const actorId of ['', 'has space', 'x'.repeat(201)]) {
        expectError(await stack.gql(UPSERT_ACTOR, { input: { actorId } }, tenant.adminKey), 'BAD_USER_INPUT');
      }
    });

    it('a failed update of an existing actor leaves it as it was', async () => {
      const other = await createTenant(stack, 'bad-input-actor');
      expectError(
        await stack.gql(
          UPSERT_ACTOR,
          { input: { actorId: tenant.actorId, roleId: other.roleId, displayName: 'Changed' } },
          tenant.adminKey,
        ),
        'NOT_FOUND',
      );
      expectError(
        await stack.gql(
          UPSERT_ACTOR,
          { input: { actorId: tenant.actorId, displayName: 'd'.repeat(10_000) } },
          tenant.adminKey,
        ),
        'BAD_USER_INPUT',
      );
      // afterEach compares the whole org, actor included.
    });
  });
});
