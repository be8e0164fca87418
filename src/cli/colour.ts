// The one colour switch: level 0 under NO_COLOR, --no-color, TERM=dumb or a non-TTY stdout (unless FORCE_COLOR).
import { Chalk, supportsColor } from 'chalk';

function level(): 0 | 1 | 2 | 3 {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return 0;
  if (process.argv.includes('--no-color')) {
    // and for the libraries that look for themselves (the prompts' colours), loaded after this
    process.env.NO_COLOR = '1';
    return 0;
  }
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') {
    return supportsColor ? supportsColor.level : 1;
  }
  if (!process.stdout.isTTY || process.env.TERM === 'dumb') return 0;
  return supportsColor ? supportsColor.level : 0;
}

export const c = new Chalk({ level: level() });
