// Migration 12 (issue 17): on PostgreSQL, lot_moves keeps no index of its own. Migration 1's lot_moves_lot
// (lot_id) is written once per lot move (an expiry run over 1,000,000 lots: a million index entries, about
// a third of the server's work on its lot moves, 0.5 s of CPU) and read by no statement that looks up one
// lot: the checks and reports that read the moves (ledger verify's remaining check, the liability at a past
// instant) sum every move per lot, which PostgreSQL then does by hashing them instead of walking the index
// in lot order: about 0.5 s slower each on a million moves (0.6 → 1.1 s and 1.9 → 2.5 s measured), well
// inside those commands' 10 s, where the expiry run has no time to spare. The foreign key to
// lots stays: it is checked from the moves' side (an id probe in lots' primary key); lots are never
// deleted, so no check looks for the moves of a lot.
// On SQLite nothing changes: a row's index entry costs little there, and the reports' plans use it.
export const sql = '';

export const pg = `
DROP INDEX IF EXISTS lot_moves_lot;
`;
