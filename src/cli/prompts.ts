// Prompt helpers (lazy-loaded: @inquirer/prompts is the slowest import we have). Ctrl-C exits 130.
import { CancelledError } from '../errors.js';

function cancelled(e: unknown): never {
  if ((e as Error)?.name === 'ExitPromptError' || (e as Error)?.name === 'AbortPromptError') throw new CancelledError();
  throw e;
}

export async function ask(message: string, opts: { validate?: (v: string) => true | string | Promise<true | string>; default?: string } = {}): Promise<string> {
  const { input } = await import('@inquirer/prompts');
  return input({ message, required: true, validate: opts.validate, default: opts.default }).catch(cancelled);
}

export async function confirmAction(message: string, dflt = false): Promise<boolean> {
  const { confirm } = await import('@inquirer/prompts');
  return confirm({ message, default: dflt }).catch(cancelled);
}

export async function choose<T extends string>(message: string, choices: { name: string; value: T; description?: string }[]): Promise<T> {
  const { select } = await import('@inquirer/prompts');
  return select({ message, choices }).catch(cancelled);
}
