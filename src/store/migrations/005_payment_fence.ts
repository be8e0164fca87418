// Migration 5: the two-phase checkout's payment fence. Once `checkout confirm` (or a one-shot checkout)
// starts paying, orders.paying_until says until when a cancel is refused and the hold is not expired:
// a confirm whose payment was approved never loses its order to a cancel or a hold running out.
export const sql = `
ALTER TABLE orders ADD COLUMN paying_until TEXT;   -- UTC ISO; NULL = no payment started
`;
