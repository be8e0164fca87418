// The ledger writer thread of a large import (importPurchases.ts, accrueOnWriter): applies the plans of
// each batch (its parts) in the batch's own transaction while the importing thread plans the next. A
// batch is refused, and so is every one after it until a reset, when another process wrote to the
// ledger since the plans were based on it: what they decided may no longer hold. It is never
// terminated from outside (a thread stopped inside an SQLite call takes the process down with it): it
// is asked to end, and ends between batches (an open batch is then rolled back).
import { parentPort, workerData } from 'node:worker_threads';
import { BusyError } from '../errors.js';
import { openStore } from '../store/db.js';
import { bulkWrites, countStagedOrders } from '../store/purchases.js';
import { ledgerFromStore } from './ledger.js';
import { PlanApplier, WRITER_CACHE_KIB, type WriterData, type WriterRequest } from './importPlan.js';

const d = workerData as WriterData;
const port = parentPort!;
const store = openStore(d.path, { busyTimeoutMs: d.busyTimeoutMs });
const l = ledgerFromStore(store, { dbPath: d.path, operator: d.operator, now: new Date(d.now) });
const undo = bulkWrites(store);
store.cacheKib(WRITER_CACHE_KIB);
const applier = new PlanApplier(l, d.source);
/** The ledger's version when the plans' reads began; another process's commit changes it. */
let seen = store.dataVersion();
let refusing = false;
/** After an error every later plan is refused with it: the importing thread is winding up. */
let failed: { message: string; code?: string; stack?: string } | null = null;

class OtherWriter extends Error {}

port.on('message', (m: WriterRequest) => {
  try {
    if ('plan' in m) {
      if (failed) return port.postMessage({ error: failed });
      if (!refusing) {
        if (!store.writing) {
          store.openWrite(); // a batch's first part; nobody else commits until it ends
          if (store.dataVersion() !== seen) throw new OtherWriter();
        }
        applier.apply(m.plan, m.last);
        if (m.last) store.commitWrite();
      }
      port.postMessage(refusing ? { stale: true } : { ok: true, repaid: applier.takeRepaid() });
    } else if ('countStage' in m) {
      port.postMessage({ ok: true, counted: countStagedOrders(m.countStage) });
    } else if ('reset' in m) {
      // the ledger's generation the importing thread wrote to: a ledger replaced since is never written (LedgerReplacedError)
      if (m.generation !== undefined && store.generation === undefined) store.generation = m.generation;
      refusing = false;
      applier.reset();
      applier.runId = m.runId;
      seen = store.dataVersion();
      port.postMessage({ ok: true });
    } else {
      store.rollbackWrite();
      undo();
      store.close();
      port.postMessage({ ok: true });
      port.close();
    }
  } catch (e) {
    store.rollbackWrite(); // the batch is written whole or not at all
    if (e instanceof OtherWriter) {
      refusing = true;
      port.postMessage({ stale: true });
      return;
    }
    const err = e as Error & { code?: string };
    failed = { message: err.message, code: e instanceof BusyError ? 'SQLITE_BUSY' : err.code, stack: err.stack };
    port.postMessage({ error: failed });
  }
});
