// A pseudo-terminal for end-to-end tests of what a person sees: the built bin run in a tmux session,
// its screen read back. Tests skip cleanly where tmux is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { BIN, DEFAULT_NOW, type TmpLedger } from './cli.js';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const sessions: string[] = [];
// Each test process has its own tmux server (socket), so a session ending in one test file never races a
// session starting in another on tmux's shared default server.
const SOCKET = ['-L', `pm-${process.pid}`];

function tmux(...args: string[]): string {
  return execFileSync('tmux', [...SOCKET, ...args], { encoding: 'utf8' });
}

/** Starts `pointsmall ARGS` on a 160×50 terminal (or `width` columns) against the ledger, with `env` added to its environment; the screen ends with EXIT=code. */
export function start(t: TmpLedger, args: string[], o: { width?: number; now?: string; env?: Record<string, string> } = {}): string {
  const name = `pm-${process.pid}-${sessions.length}`;
  sessions.push(name);
  const more = Object.entries(o.env ?? {}).map(([k, v]) => ` ${k}='${v}'`).join('');
  const env = `env -u CI -u NO_COLOR POINTSMALL_DB='${t.db}' POINTSMALL_NOW='${o.now ?? DEFAULT_NOW}' POINTSMALL_OPERATOR=tester${more}`;
  tmux('new-session', '-d', '-s', name, '-x', String(o.width ?? 160), '-y', '50', `${env} '${process.execPath}' '${BIN}' ${args.join(' ')}; echo EXIT=$?; sleep 120`);
  return name;
}

export const screen = (s: string) => tmux('capture-pane', '-p', '-t', s);
/** The screen with lines the terminal wrapped joined again: each line as the program wrote it. */
export const screenJoined = (s: string) => tmux('capture-pane', '-p', '-J', '-t', s);

/** Polls the screen until `text` shows; `ms` only bounds a hang (a loaded machine may take long to draw). */
export async function waitFor(s: string, text: string | RegExp, ms = 120_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    const out = screen(s);
    if (typeof text === 'string' ? out.includes(text) : text.test(out)) return out;
    if (Date.now() > until) throw new Error(`timed out waiting for ${text}; screen:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const keys = (s: string, ...k: string[]) => tmux('send-keys', '-t', s, ...k);
export const type = (s: string, text: string) => tmux('send-keys', '-t', s, '-l', text);

/** Ends every session started (call from afterEach). */
export function endSessions(): void {
  while (sessions.length) spawnSync('tmux', [...SOCKET, 'kill-session', '-t', sessions.pop()!]);
}
