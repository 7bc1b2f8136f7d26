import fs from 'node:fs';
import path from 'node:path';

export default async function globalTeardown(): Promise<void> {
  const template = process.env.MEMSY_TEST_TEMPLATE;
  if (template) fs.rmSync(path.dirname(template), { recursive: true, force: true });
}
