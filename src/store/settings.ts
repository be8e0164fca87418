// Ledger settings fixed at init (currency, digits, timezone) and tunables (hold minutes).
import type { Store } from './db.js';

export class Settings {
  private readonly get1;
  private readonly set1;
  private readonly all1;
  constructor(store: Store) {
    this.get1 = store.db.prepare('SELECT value FROM settings WHERE key = ?').pluck();
    this.set1 = store.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.all1 = store.db.prepare('SELECT key, value FROM settings ORDER BY key');
  }
  get(key: string): string | undefined {
    return this.get1.get(key) as string | undefined;
  }
  set(key: string, value: string): void {
    this.set1.run(key, value);
  }
  all(): Record<string, string> {
    return Object.fromEntries((this.all1.all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  }
}

export const settings = (store: Store): Settings => new Settings(store);
