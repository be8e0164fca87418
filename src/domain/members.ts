// Validation of member master data at the edge; pure.
import { idLookalikeProblem, idTextProblem, spreadsheetNumberProblem, trimAscii } from './text.js';
export interface MemberInput {
  id: string;
  name: string;
  phone?: string | null;
  email?: string | null;
  tier?: string | null;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Problems with one member's fields, each naming the field; empty when valid. */
export function memberProblems(m: Partial<MemberInput>, opts: { partial?: boolean } = {}): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  if (!opts.partial || m.id !== undefined) {
    const id = m.id ?? '';
    if (id.trim() === '') out.push({ field: 'id', message: 'member id is empty' });
    else if (id !== trimAscii(id)) out.push({ field: 'id', message: `member id ${JSON.stringify(id)} has leading or trailing spaces` }); // (other blanks: named below)
    else if (id.length > 64) out.push({ field: 'id', message: 'member id is longer than 64 characters' });
    else if (CONTROL.test(id)) out.push({ field: 'id', message: 'member id contains control characters' });
    else {
      const p = idTextProblem('member id', id) ?? idLookalikeProblem('member id', id) ?? spreadsheetNumberProblem('member id', id);
      if (p) out.push({ field: 'id', message: p });
    }
  }
  if (!opts.partial || m.name !== undefined) {
    const name = m.name ?? '';
    if (name.trim() === '') out.push({ field: 'name', message: 'name is empty' });
    else if (name.length > 200) out.push({ field: 'name', message: 'name is longer than 200 characters' });
    else if (CONTROL.test(name)) out.push({ field: 'name', message: 'name contains control characters' });
  }
  if (m.phone) {
    if (!/^\+?[0-9][0-9 ()-]{3,24}$/.test(m.phone)) out.push({ field: 'phone', message: `phone ${JSON.stringify(m.phone)} is not a phone number (digits, spaces, + - ( ))` });
  }
  if (m.email) {
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(m.email) || m.email.length > 254 || CONTROL.test(m.email)) out.push({ field: 'email', message: `email ${JSON.stringify(m.email)} is not an address like name@example.com` });
  }
  if (m.tier !== undefined && m.tier !== null && (m.tier.trim() === '' || CONTROL.test(m.tier))) {
    out.push({ field: 'tier', message: 'tier name is empty or has control characters' });
  }
  return out;
}
