// Backups taken while others write pass verify; restore refuses a file that fails verify and round-trips
// a good one; the ledger, its WAL and its backups are readable by the owner only (mode 0600).
import { copyFileSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, runCliAsync, tmpLedger } from '../helpers/cli.js';

const mode = (f: string) => statSync(f).mode & 0o777;

/** A background writer: a node process adjusting points in-process until told to stop. */
function startWriter(db: string, members: string[]): { stop: () => Promise<number> } {
  const script = `
    const { adjustMember } = await import(${JSON.stringify(join(ROOT, 'dist/services/members.js'))});
    let n = 0, stop = false;
    process.stdin.on('data', () => { stop = true; });
    const ids = ${JSON.stringify(members)};
    while (!stop) {
      const id = ids[n % ids.length];
      await adjustMember({ dbPath: ${JSON.stringify(db)}, operator: 'writer', now: new Date('2026-11-23T02:00:00Z') }, id, 1 + (n % 7), 'bg');
      n++;
      await new Promise((r) => setImmediate(r));
    }
    process.stdout.write(String(n));
  `;
  const p = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  return {
    stop: () =>
      new Promise((res) => {
        p.on('close', () => res(Number(out)));
        p.stdin.write('x');
        p.stdin.end();
      }),
  };
}

describe('durability', () => {
  it('db backup while writes go on yields ledgers that pass verify, each mode 0600', async () => {
    const t = tmpLedger();
    for (const id of ['a', 'b', 'c']) t.ok(['member', 'add', '--id', id, '--name', id]);
    const w = startWriter(t.db, ['a', 'b', 'c']);
    await new Promise((r) => setTimeout(r, 300));
    const backups: string[] = [];
    for (let i = 0; i < 4; i++) {
      const f = join(t.dir, `backup-${i}.db`);
      const r = await runCliAsync(['db', 'backup', f, '--json'], { db: t.db });
      expect(r.code, r.stderr).toBe(0);
      expect(r.json().entries).toBeGreaterThanOrEqual(0);
      backups.push(f);
    }
    const writes = await w.stop();
    expect(writes).toBeGreaterThan(5);
    const counts: number[] = [];
    for (const f of backups) {
      expect(mode(f)).toBe(0o600);
      const v = runCli(['ledger', 'verify', '--json'], { db: f });
      expect(v.code, v.stdout).toBe(0);
      counts.push(v.json().entries);
    }
    // Successive backups are successive snapshots.
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    expect(t.verify().entries).toBe(writes);
  });

  it('ledger file and its WAL are mode 0600', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    expect(mode(t.db)).toBe(0o600);
    if (existsSync(`${t.db}-wal`)) expect(mode(`${t.db}-wal`)).toBe(0o600);
  });

  it('db restore round-trips a good backup and keeps the previous ledger aside (0600)', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['member', 'adjust', 'a', '--points', '500', '--reason', 'start']);
    const bak = join(t.dir, 'good.db');
    t.ok(['db', 'backup', bak]);
    t.ok(['member', 'adjust', 'a', '--points', '-200', '--reason', 'spent after backup', '--yes']);
    expect(t.ok(['member', 'show', 'a']).balance).toBe(300);
    const r = t.ok(['db', 'restore', bak, '--yes']);
    expect(t.ok(['member', 'show', 'a']).balance).toBe(500);
    expect(t.verify().ok).toBe(true);
    expect(r.previous).toBeTruthy();
    expect(mode(t.db)).toBe(0o600);
    expect(mode(r.previous)).toBe(0o600);
    // The previous ledger is itself a verifiable ledger holding the later change.
    expect(runCli(['member', 'show', 'a', '--json'], { db: r.previous }).json().balance).toBe(300);
    // A second restore at the same clock keeps its own copy of the ledger it replaces.
    const again = t.ok(['db', 'restore', bak, '--yes']);
    expect(again.previous).not.toBe(r.previous);
    expect(t.verify().ok).toBe(true);
  });

  // (Its later commits went on into the restored ledger until trial 40b: an import's then named a run the
  // restored ledger did not have. Now the process writes no more there: exit 5 LEDGER_REPLACED.)
  it('db restore under a process holding the ledger open (a long import): it writes neither into a replaced file nor on into the restored ledger', async () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const bak = join(t.dir, 'empty.db');
    t.ok(['db', 'backup', bak]);
    // One connection for the whole run, committing a credit at a time, like an import's batches.
    const script = `
      const { withLedger } = await import(${JSON.stringify(join(ROOT, 'dist/services/ledger.js'))});
      const { creditPoints } = await import(${JSON.stringify(join(ROOT, 'dist/services/points.js'))});
      await withLedger({ dbPath: ${JSON.stringify(t.db)}, operator: 'w', now: new Date('2026-11-23T02:00:00Z') }, async (l) => {
        const { existsSync } = await import('node:fs');
        const t0 = Date.now();
        while (!existsSync(${JSON.stringify(join(t.dir, 'stop'))}) && Date.now() - t0 < 30_000) {
          l.store.write(() => creditPoints(l, { memberId: 'a', points: 1, at: l.nowIso, kind: 'accrual', from: 'issued', expiresOn: '2027-11-23' }));
          process.stdout.write(Date.now() + '\\n');
          await new Promise((r) => setTimeout(r, 2));
        }
      });`;
    const acks: number[] = [];
    let err = '';
    const done = new Promise<void>((res) => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout.on('data', (d) => acks.push(...String(d).split('\n').filter(Boolean).map(Number)));
      p.stderr.on('data', (d) => (err += d));
      p.on('close', () => res());
    });
    // Restore only once the writer has acknowledged commits, however slow its start on a loaded machine.
    for (const t0 = Date.now(); acks.length < 5 && Date.now() - t0 < 20_000; ) await new Promise((r) => setTimeout(r, 20));
    expect(acks.length).toBeGreaterThanOrEqual(5);
    const r = await runCliAsync(['db', 'restore', bak, '--yes', '--json'], { db: t.db });
    const restoredAt = Date.now();
    expect(r.code, r.stderr).toBe(0);
    // The writer's next transaction finds the ledger replaced and ends it (the stop file is a backstop).
    await Promise.race([done, new Promise((r) => setTimeout(r, 20_000))]);
    writeFileSync(join(t.dir, 'stop'), '');
    await done;
    expect(err).toContain('was replaced while this command ran');
    // what it committed before the restore is in the copy kept aside; nothing of it after, here
    expect(t.ok(['member', 'show', 'a']).balance).toBe(0);
    expect(t.verify().ok).toBe(true);
    const kept = runCli(['member', 'show', 'a', '--json', '--db', r.json().previous]).json();
    expect(kept.balance).toBeGreaterThanOrEqual(5);
  });

  it('db restore refuses a backup whose caches or journal were tampered with, and changes nothing', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['member', 'adjust', 'a', '--points', '500', '--reason', 'start']);
    const bak = join(t.dir, 'bak.db');
    t.ok(['db', 'backup', bak]);

    const cache = join(t.dir, 'cache.db');
    copyFileSync(bak, cache);
    const d1 = new Database(cache);
    d1.prepare("UPDATE members SET balance = balance + 1000 WHERE id = 'a'").run();
    d1.close();

    const chain = join(t.dir, 'chain.db');
    copyFileSync(bak, chain);
    const d2 = new Database(chain);
    d2.exec('DROP TRIGGER postings_append_only_u');
    d2.prepare("UPDATE postings SET points = -points WHERE member_id = 'a'").run();
    d2.close();

    const junk = join(t.dir, 'junk.db');
    writeFileSync(junk, 'not a database at all\n');

    t.ok(['member', 'adjust', 'a', '--points', '-100', '--reason', 'after', '--yes']);
    const before = t.ok(['ledger', 'entries']).length;
    for (const [f, codes] of [
      [cache, [3, 6]],
      [chain, [3, 6]],
      [junk, [2]],
      [join(t.dir, 'missing.db'), [2]],
    ] as const) {
      const r = t.run(['db', 'restore', f, '--yes', '--json']);
      expect(codes, `${f}: exit ${r.code} ${r.stderr}`).toContain(r.code);
      expect(r.stdout).toBe('');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(t.ok(['member', 'show', 'a']).balance).toBe(400);
    expect(t.ok(['ledger', 'entries']).length).toBe(before);
    expect(t.verify().ok).toBe(true);
    // verify itself names the broken invariant
    expect(runCli(['ledger', 'verify'], { db: cache }).code).toBe(6);
    expect(runCli(['ledger', 'verify'], { db: chain }).code).toBe(6);
  });

  it('db backup refuses an existing file and a missing folder without writing', () => {
    const t = tmpLedger();
    const existing = join(t.dir, 'exists.db');
    writeFileSync(existing, 'keep me');
    expect(t.run(['db', 'backup', existing]).code).toBe(2);
    expect(statSync(existing).size).toBe(7);
    expect(t.run(['db', 'backup', join(t.dir, 'no', 'such', 'dir', 'b.db')]).code).toBe(2);
    expect(t.run(['db', 'backup', t.db]).code).toBe(2);
  });
});
