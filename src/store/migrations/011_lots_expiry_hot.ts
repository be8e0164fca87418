// Migration 11 (issue 17): on PostgreSQL, emptying a lot (an expiry run, a checkout taking its points) is a
// HOT update, written in the lot's own page with no new index entries. PostgreSQL writes a new version of
// every row it updates; the update stays in the page, and out of every index, only when no index names a
// column it changes (in its key or its WHERE) and the page has room. Migration 1's partial index
// lots_expiry_open (expires_on) WHERE remaining > 0 names remaining, and a page loaded by COPY is full: so
// each of a 1,000,000-lot run's updates went into the primary key, the member index and the heap's end
// (about 6 s of server CPU). Here it is replaced by a plain index on expires_on, and the table keeps half of
// each page free for its rows' next versions (fillfactor 50: a run that empties every lot at once stays in
// the pages; the old versions are pruned when the page is next visited). Rows written from now on get the
// room; a ledger's existing pages keep theirs until the table is rewritten (VACUUM FULL lots). The members,
// whose cached balances every entry updates (and no index names), get the same room, for the same reason.
// The cost: the lots take twice the pages, and a run finds its lots by expires_on among every lot, open or
// emptied (a nightly run on a ledger with a long history scans the lots once per statement).
// On SQLite nothing changes: it rewrites a row in place, and only the indexes naming a column it changes,
// so the partial index is the cheap way to find open lots there (the store names it with INDEXED BY, which
// the PostgreSQL dialect drops).
export const sql = '';

export const pg = `
DROP INDEX lots_expiry_open;
CREATE INDEX lots_expiry ON lots(expires_on);
ALTER TABLE lots SET (fillfactor = 50);
ALTER TABLE members SET (fillfactor = 50);
`;
