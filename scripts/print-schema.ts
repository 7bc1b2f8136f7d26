/**
 * `npm run schema`: prints each subgraph's SDL (with its federation directives) to
 * schema/<name>.graphql and composes schema/supergraph.graphql, which the gateway serves.
 * `npm run schema:check` (CI) fails when the committed files differ from a fresh run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateSchemaFiles } from './schema-files';

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const dir = path.resolve(__dirname, '..', 'schema');
  const files = await generateSchemaFiles();
  const stale: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
    if (current === content) continue;
    if (check) stale.push(name);
    else {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(file, content);
      console.log(`wrote schema/${name}`);
    }
  }
  if (stale.length > 0) {
    console.error(`schema/ is out of date (${stale.join(', ')}): run "npm run schema" and commit the result`);
    process.exit(1);
  }
  if (check) console.log('schema/ is up to date');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
