// The one colour switch: level 0 under NO_COLOR, --no-color, FORCE_COLOR=0 or a non-TTY stdout; TERM=dumb
// too unless FORCE_COLOR asks for colour. Piped output is data (tab-separated rows, `✓`/`✗` marks a script
// greps for), so FORCE_COLOR never puts escapes into it (trial 44a: `FORCE_COLOR=1 … ledger verify | grep
// '^✗'` found nothing, and only some commands coloured their piped rows).
import { Chalk, supportsColor } from 'chalk';

function level(): 0 | 1 | 2 | 3 {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return 0;
  if (process.argv.includes('--no-color')) {
    // and for the libraries that look for themselves (the prompts' colours), loaded after this
    process.env.NO_COLOR = '1';
    return 0;
  }
  if (!process.stdout.isTTY) return 0;
  const force = process.env.FORCE_COLOR;
  if (force === '0' || force === 'false') return 0;
  if (force !== undefined && force !== '') {
    return supportsColor ? supportsColor.level : 1;
  }
  if (process.env.TERM === 'dumb') return 0;
  return supportsColor ? supportsColor.level : 0;
}

export const c = new Chalk({ level: level() });
