// Loader for `node -r ./scripts/register.js file.ts`: decorator metadata for type-graphql and
// TypeORM, and TypeScript compiled on the fly by swc (tsx/esbuild would drop the metadata).
require('reflect-metadata');
require('@swc-node/register');
