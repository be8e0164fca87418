// A pseudo-terminal for end-to-end tests of what a person sees: the built bin run in a tmux session,
// its screen read back. Tests skip cleanly where tmux is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, DEFAULT_NOW, type TmpLedger } from './cli.js';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const sessions: string[] = [];
// Each session has a tmux server (socket) of its own, named as the session: a session ending never races one
// starting, as it would on one shared server, where the last session's end takes the server down while the
// next new-session may be connecting to it ("server exited unexpectedly" on a loaded machine).
function tmux(session: string, ...args: string[]): string {
  return execFileSync('tmux', ['-L', session, ...args], { encoding: 'utf8' });
}

/** Starts `pointsmall ARGS` on a 160×50 terminal (or `width` columns) against the ledger, with `env` added to its environment, after the shell command `before`; the screen ends with EXIT=code. */
export function start(t: TmpLedger, args: string[], o: { width?: number; now?: string; env?: Record<string, string>; before?: string } = {}): string {
  const name = `pm-${process.pid}-${sessions.length}`;
  sessions.push(name);
  const more = Object.entries(o.env ?? {}).map(([k, v]) => ` ${k}='${v}'`).join('');
  const env = `env -u CI -u NO_COLOR POINTSMALL_DB='${t.db}' POINTSMALL_NOW='${o.now ?? DEFAULT_NOW}' POINTSMALL_OPERATOR=tester${more}`;
  tmux(name, 'new-session', '-d', '-s', name, '-x', String(o.width ?? 160), '-y', '50', `${o.before ? `${o.before}; ` : ''}${env} '${process.execPath}' '${BIN}' ${args.join(' ')}; echo EXIT=$?; sleep 120`);
  return name;
}

export const screen = (s: string) => tmux(s, 'capture-pane', '-p', '-t', s);
/** The screen with its colours and other attributes, as escape sequences. */
export const screenWithAttributes = (s: string) => tmux(s, 'capture-pane', '-p', '-e', '-t', s);
/** The screen with lines the terminal wrapped joined again: each line as the program wrote it. */
export const screenJoined = (s: string, history = false) => tmux(s, 'capture-pane', '-p', '-J', ...(history ? ['-S', '-'] : []), '-t', s);

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

export const keys = (s: string, ...k: string[]) => tmux(s, 'send-keys', '-t', s, ...k);
export const type = (s: string, text: string) => tmux(s, 'send-keys', '-t', s, '-l', text);

/** Ends every session started (call from afterEach). */
export function endSessions(): void {
  while (sessions.length) {
    const s = sessions.pop()!;
    spawnSync('tmux', ['-L', s, 'kill-server']);
    rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.() ?? 0}`, s), { force: true }); // its socket
  }
}
