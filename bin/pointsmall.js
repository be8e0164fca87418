#!/usr/bin/env node
// The thin bin: everything lives in dist/cli/main.js, built by `npm run build`.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write('error: pointsmall is not built\nhint: run `npm run build` (npm ci does it for you)\n');
  process.exit(1);
}
// A PostgreSQL ledger is served by a worker thread (dist/store/pg): start it now, so that it loads its
// driver while this thread loads the commands.
const pgUrl = /^(--db=|--to=)?postgres(ql)?:\/\//i;
if (process.argv.some((a) => pgUrl.test(a)) || pgUrl.test(process.env.POINTSMALL_DB ?? '')) {
  const { startWorker } = await import(new URL('../dist/store/pg/database.js', import.meta.url).href);
  startWorker();
}
await import(main.href);
