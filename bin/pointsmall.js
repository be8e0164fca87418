#!/usr/bin/env node
// The thin bin: everything lives in dist/cli/main.js, built by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('error: pointsmall is not built\nhint: run `npm run build` (npm ci does it for you)\n');
  process.exit(1);
}
await import(main.href);
