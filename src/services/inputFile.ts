// Input paths: a command reads a regular file, and says what else a path is when it is not one.
import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * Throws the usage error for an input path that is not a regular file, saying which it is: missing, a
 * folder, or a pipe or device (`<(…)`, a FIFO, /dev/stdin): inputs are files, which an import reads more than once.
 */
export function requireInputFile(path: string, hint: string): void {
  if (!existsSync(path)) throw new UsageError(`cannot read ${path}: no such file`, hint);
  const st = statSync(path);
  if (st.isFile()) return;
  if (st.isDirectory()) throw new UsageError(`cannot read ${path}: it is a folder, not a file`, hint);
  throw new UsageError(
    `cannot read ${path}: it is a pipe or a device, not a regular file`,
    'save it to a file first (… > input.csv) and pass that: an input is read more than once (checked whole, then loaded)',
  );
}
