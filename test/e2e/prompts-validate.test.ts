// Trial 30 (operator at a terminal): catalog add and member add checked their answers only after the last
// question, so a price with three decimals, or an SKU or member id that exists, lost everything typed (exit 2).
// Each answer is checked as it is given now, and the question asked again.
import { afterEach, describe, expect, it } from 'vitest';
import { sceneLedger } from '../helpers/cli.js';
import { endSessions, hasTmux, keys, start, type, waitFor } from '../helpers/tmux.js';

const shop = () =>
  sceneLedger('prompt shop', (t) => {
    t.ok(['catalog', 'add', '--sku', 'TEA-001', '--name', 'Tea', '--price', '10.00']);
    t.ok(['member', 'add', '--id', 'M001', '--name', 'Ann']);
  });

/** Waits for `question`, types `text` and Enter. */
async function answer(s: string, question: string, text: string): Promise<void> {
  await waitFor(s, question);
  type(s, text);
  keys(s, 'Enter');
}

/** Waits for `problem` under the question, clears the answer, types `text` and Enter. */
async function again(s: string, problem: string, text: string): Promise<void> {
  await waitFor(s, problem);
  keys(s, 'C-u');
  type(s, text);
  keys(s, 'Enter');
}

describe.skipIf(!hasTmux)('prompts check each answer as it is given', () => {
  afterEach(endSessions);

  it('catalog add: an SKU that exists and a price with three decimals are asked again; the item is added', async () => {
    const t = shop();
    const s = start(t, ['catalog', 'add'], { width: 80 });
    await answer(s, '? SKU', 'TEA-001');
    await again(s, 'item "TEA-001" already exists: type another SKU', 'NEW-001');
    await answer(s, '? Name', 'Green tea');
    await answer(s, '? Price', '12.345');
    await again(s, '"12.345" has more than 2 decimal places', '12.35');
    const out = await waitFor(s, /EXIT=\d+/);
    expect(out).toContain('item NEW-001 (Green tea) added at 12.35');
    expect(out).toContain('EXIT=0');
    expect(t.ok(['catalog', 'show', 'NEW-001'])).toMatchObject({ name: 'Green tea', price: '12.35' });
  });

  it('member add: an id that exists is asked again', async () => {
    const t = shop();
    const s = start(t, ['member', 'add'], { width: 80 });
    await answer(s, '? Member id', 'M001');
    await again(s, 'member "M001" already exists: type another id', 'M002');
    await answer(s, '? Name', 'Bob');
    const out = await waitFor(s, /EXIT=\d+/);
    expect(out).toContain('member M002 (Bob) added');
    expect(t.ok(['member', 'show', 'M002']).name).toBe('Bob');
  });
});

describe.skipIf(!hasTmux)('a prompt whose input closes before an answer (trial 38, finding 3)', () => {
  afterEach(endSessions);

  it.each([
    ['C-d', 'cancelled: the input closed before an answer (Ctrl-D, or the terminal went away)'],
    ['C-c', 'cancelled (Ctrl-C)'],
  ])('%s at a question: exit 130 saying how it ended (Ctrl-D is not called Ctrl-C); nothing is added', async (key, said) => {
    const t = shop();
    const s = start(t, ['catalog', 'add'], { width: 80 });
    await waitFor(s, '? SKU');
    keys(s, key);
    const out = await waitFor(s, /EXIT=\d+/);
    expect(out).toContain(said);
    if (key === 'C-d') expect(out).not.toContain('Ctrl-C)');
    expect(out).toContain('EXIT=130');
    expect(t.ok(['catalog', 'list']).map((x: { sku: string }) => x.sku)).toEqual(['TEA-001']);
  }, 300_000);
});
