// Help that teaches (issue 20 item 5): every command has a description and examples, every option and
// argument a sentence, global options under their own heading, no internal references.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, type RunResult, runCli, runCliAsync, tmpLedger } from '../helpers/cli.js';
import { endSessions, hasTmux, screenJoined, start, waitFor } from '../helpers/tmux.js';

interface Node {
  path: string;
  description: string;
  leaf: boolean;
  arguments: { name: string; description: string }[];
  options: { flags: string; description: string }[];
  subcommands: string[];
}

const tree = (): Node[] => runCli(['__complete', 'tree']).json();

/** Every command's --help, six processes at a time, run once for both tests that read them. */
const helps = new Map<string, Promise<RunResult>>();
async function helpOf(paths: string[]): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (let i = 0; i < paths.length; i += 6) {
    const batch = paths.slice(i, i + 6).map((p) => {
      let h = helps.get(p);
      if (!h) helps.set(p, (h = runCliAsync([...p.split(' ').filter(Boolean), '--help'])));
      return h;
    });
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

describe('a command group without its command', () => {
  it('is a usage error (exit 2) naming the commands, so a cron line missing `run` does not pass doing nothing; help itself exits 0', async () => {
    const [bare, json, top, help, helpOf2] = await Promise.all([
      runCliAsync(['expire']),
      runCliAsync(['expire', '--json']),
      runCliAsync([]),
      runCliAsync(['help', 'expire']),
      runCliAsync(['expire', '--help']),
    ]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('Usage: pointsmall expire'); // a person still sees the usage
    expect(bare.stderr).toContain('error: pointsmall expire needs a command: run, preview');
    expect(json.code).toBe(2);
    expect(json.stdout).toBe('');
    expect(json.stderr.trim().split('\n').map((l) => JSON.parse(l).error.code)).toEqual(['USAGE']); // only the error document
    expect(top.code).toBe(2);
    expect(top.stderr).toMatch(/pointsmall needs a command: init, db, /);
    expect([help.code, helpOf2.code]).toEqual([0, 0]);
    expect(help.stdout + help.stderr).toContain('Usage: pointsmall expire');
  });
});

describe('help (issue 20 item 5)', () => {
  it('--version prints the version in package.json', () => {
    const r = runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('every command has a description, every option and argument one, every leaf command examples', async () => {
    const nodes = tree();
    expect(nodes.length).toBeGreaterThan(40);
    const problems: string[] = [];
    for (const n of nodes) {
      const name = `pointsmall ${n.path}`.trim();
      if (!n.description.trim()) problems.push(`${name}: no description`);
      for (const o of n.options) if (!o.description?.trim()) problems.push(`${name} ${o.flags}: no description`);
      for (const a of n.arguments) if (!a.description?.trim()) problems.push(`${name} <${a.name}>: no description`);
    }
    const leaves = nodes.filter((n) => n.leaf);
    (await helpOf(leaves.map((n) => n.path))).forEach((h, i) => {
      const name = `pointsmall ${leaves[i].path}`;
      if (h.code !== 0) problems.push(`${name} --help: exit ${h.code}`);
      const examples = /\nExamples:\n((?: {2}\S.*\n?|\s{4,}.*\n?)+)/.exec(h.stdout);
      if (!examples) problems.push(`${name}: no Examples: section`);
      else if (!examples[1].includes(`pointsmall ${leaves[i].path}`)) problems.push(`${name}: examples do not run the command`);
      if (!/\nGlobal Options:\n[\s\S]*--db <path>[\s\S]*--json[\s\S]*--operator[\s\S]*--yes/.test(h.stdout)) problems.push(`${name}: no Global Options heading with --db, --json, --operator, --yes`);
      if (/§|\bSPEC\b|transaction|planned \d/.test(h.stdout)) problems.push(`${name}: internal reference in help`);
    });
    expect(problems).toEqual([]);
  });

  it('every command\'s --help is the snapshot under test/e2e/__snapshots__ (a change to any help text shows in review)', async () => {
    const nodes = tree();
    const texts = (await helpOf(nodes.map((n) => n.path))).map((h, i) => `$ pointsmall ${nodes[i].path} --help`.replace('  ', ' ') + '\n' + h.stdout);
    await expect(texts.join('\n')).toMatchFileSnapshot('__snapshots__/help.txt');
  });

  it('order refund help cites no section number and import purchases --batch describes no internals', () => {
    expect(runCli(['order', 'refund', '--help']).stdout).not.toContain('§');
    const imp = runCli(['import', 'purchases', '--help']).stdout;
    expect(imp).toMatch(/--batch <n>/);
    expect(imp).not.toMatch(/planned|doubles?\b|first batch/);
  });
});

// Trial 30: paragraphs written for a wide terminal broke mid-word at 80 columns ("unkn / own"), and examples
// ran past it. On a terminal the help fits its width; on a pipe it is as written (the snapshot above).
describe.skipIf(!hasTmux)('help on an 80-column terminal', () => {
  afterEach(endSessions);

  it('wraps every paragraph between words and breaks long examples with a shell continuation', async () => {
    const t = tmpLedger();
    for (const args of [['points', 'award'], ['import', 'purchases'], ['import', 'void'], ['outbox', 'export'], ['ledger', 'verify'], ['checkout', 'confirm'], ['catalog'], ['db', 'copy']]) {
      const s = start(t, [...args, '--help'], { width: 80 });
      await waitFor(s, /EXIT=\d+/);
      const lines = screenJoined(s, true).split('\n');
      for (const line of lines) expect(line.length, `${args.join(' ')}: ${line}`).toBeLessThanOrEqual(80);
      const text = lines.join('\n');
      expect(text).toContain('EXIT=0');
      if (args.length > 1) expect(text).toMatch(/Examples:\n {2}pointsmall /);
      // every broken example carries on: a line ending in a backslash is followed by the rest, indented
      for (let i = 0; i < lines.length; i++) if (lines[i].endsWith(' \\')) expect(lines[i + 1]).toMatch(/^ {6}\S/);
      // and pastes as the same commands as the help on a pipe gives (trial 30: a written-over-lines example was
      // wrapped as prose, its backslashes mid-line)
      const commands = (text: string) => text.slice(text.indexOf('Examples:')).replace(/\s*\\\n\s*/g, ' ').split('\n').filter((l) => /^\s+pointsmall /.test(l)).map((l) => l.trim().replace(/\s+/g, ' '));
      if (args.length > 1) expect(commands(text)).toEqual(commands(runCli([...args, '--help']).stdout));
    }
  }, 300_000);
});
