// What the bench scripts share. Cached ledgers in bench/out/ carry the ledger format in their names
// (schema version and page size of a new ledger), so a change of format rebuilds them.
import { LEDGER_PAGE_SIZE } from '../dist/store/db.js';
import { latestVersion } from '../dist/store/migrations/index.js';

export const ledgerFormatTag = () => `v${latestVersion()}p${LEDGER_PAGE_SIZE}`;
