// Migration 7: which entries a rules version could have applied to. A version applied later with an
// earlier --effective (a backdated version) changes nothing already booked: the lots written before it
// keep the expiry the versions known then gave. entries_before is the last entry id when the version
// was stored, so ledger verify judges each lot by the versions its entry could have seen. NULL (versions
// stored before this migration): taken as known to every entry, as verify did before.
export const sql = `
ALTER TABLE rules_versions ADD COLUMN entries_before INTEGER;
`;
