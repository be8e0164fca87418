// The postgres project of `npm test` runs the files PG_CORE names (vitest.config.ts): a name that matches
// no file, or no shared file, would drop that file from PostgreSQL silently (vitest runs what exists).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PG_CORE, SHARED, SQLITE_ONLY } from '../vitest.config.js';

const ROOT = join(__dirname, '..');

/** Whether `file` is matched by one of SHARED's patterns (a folder's `**\/*.test.ts`, or a file's name). */
function shared(file: string): boolean {
  return SHARED.some((p) => (p.endsWith('/**/*.test.ts') ? file.startsWith(p.slice(0, -'**/*.test.ts'.length)) && file.endsWith('.test.ts') : p === file));
}

describe('the postgres project of npm test', () => {
  it('names existing shared files, each once, none of them SQLite-only', () => {
    expect(PG_CORE.length).toBeGreaterThan(0);
    expect(new Set(PG_CORE).size).toBe(PG_CORE.length);
    for (const f of PG_CORE) {
      expect(existsSync(join(ROOT, f)), f).toBe(true);
      expect(shared(f), f).toBe(true);
      expect(SQLITE_ONLY, f).not.toContain(f);
    }
  });
});
