// Migration 13 (issue 19): two indexes fewer for every import to write. A 1,000,000-row import writes
// about 245,000 accrual entries and 490,000 postings; each index on those tables is one more B-tree
// insertion per row, about 2–3 µs each on SQLite: measured in turns on the bench's 1M-row file, dropping
// postings_member took 1.1 s off the import (about 11 %), entries_kind_at about 0.6–1 s.
// - postings_member (member_id, account) indexed every posting, while the only statements that look
//   postings up by member want a member's redeemed and expired points (report members). It now holds
//   those postings only; an import's postings (issued, member) never enter it. A member's statement
//   reads its opening balance through the member's entries (entries_member), as its lines already did:
//   every entry's postings are its own member's.
// - entries_kind_at (kind, at) duplicated entries_at (at) for the statements that filter both: they range
//   over entries_at and test the kind; the checks that name a kind alone (ledger verify's) scan the
//   entries once.
export const sql = `
DROP INDEX IF EXISTS postings_member;
CREATE INDEX IF NOT EXISTS postings_member_spent ON postings(member_id, account) WHERE account IN ('redeemed', 'expired');
DROP INDEX IF EXISTS entries_kind_at;
`;
