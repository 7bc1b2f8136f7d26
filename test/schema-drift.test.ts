import fs from 'node:fs';
import path from 'node:path';
import { generateSchemaFiles } from '../scripts/schema-files';

/** The committed schema/ is what clients and the gateway read: it must match the code. */
describe('schema artifacts', () => {
  it('schema/ matches a fresh `npm run schema`', async () => {
    const files = await generateSchemaFiles();
    const dir = path.resolve(__dirname, '..', 'schema');
    const committed = fs
      .readdirSync(dir)
      .filter((name) => name.endsWith('.graphql'))
      .sort();
    expect(committed).toEqual(Object.keys(files).sort());
    for (const [name, content] of Object.entries(files)) {
      // A mismatch means a resolver changed without `npm run schema` being run and committed.
      expect({ name, content: fs.readFileSync(path.join(dir, name), 'utf8') }).toEqual({ name, content });
    }
  });

  it('keeps the public names of DESIGN.md section 7 in the supergraph', async () => {
    const supergraph = (await generateSchemaFiles())['supergraph.graphql']!;
    for (const name of [
      'createOrg(',
      'orgs(',
      'org(',
      'updateOrg(',
      'regenerateOrgPrompt(',
      'deleteOrg(',
      'createRole(',
      'roles(',
      'role(',
      'updateRole(',
      'regenerateRolePrompt(',
      'deleteRole(',
      'createTeam(',
      'teams(',
      'team(',
      'updateTeam(',
      'regenerateTeamPrompt(',
      'deleteTeam(',
      'upsertActor(',
      'actor(',
      'createApiKey(',
      'revokeApiKey(',
      'apiKeys(',
      'type PromptMeta',
      'type Actor',
      'type Org',
      'type Role',
      'type Team',
    ]) {
      expect(supergraph).toContain(name);
    }
  });
});
