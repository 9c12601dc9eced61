// POSIX.1-2001 pax extended header records: "%d %s=%s\n", the length counting the whole
// record including its own digits. Parse strictly (a bad length is a FormatError), serialize
// as GNU tar 1.34's xheader does. Keys and values are latin1 byte strings (values are UTF-8
// bytes by the standard, or raw bytes under hdrcharset=BINARY: either way kept byte for byte).
import { FormatError } from '../../src/types.js';
import { bstr, bytesOf } from './header.js';

export interface PaxRecord {
  readonly key: string;
  readonly value: string;
}

/** Parse the data of an 'x' or 'g' header. `where` is its archive offset, for messages. */
export function parsePax(data: Uint8Array, where: number): PaxRecord[] {
  const out: PaxRecord[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) {
      // NUL padding after the last record (some writers leave it): only NULs may follow.
      for (let i = pos; i < data.length; i++) if (data[i] !== 0) throw new FormatError(`pax header at ${where}: junk after NUL at byte ${pos}`);
      break;
    }
    let len = 0;
    let i = pos;
    while (i < data.length && data[i]! >= 0x30 && data[i]! <= 0x39 && i - pos < 12) len = len * 10 + (data[i++]! - 0x30);
    if (i === pos || data[i] !== 0x20) throw new FormatError(`pax header at ${where}: bad record length at byte ${pos}`);
    if (len < i - pos + 4 || pos + len > data.length) throw new FormatError(`pax header at ${where}: record length ${len} at byte ${pos} is out of bounds`);
    if (data[pos + len - 1] !== 0x0a) throw new FormatError(`pax header at ${where}: record at byte ${pos} does not end in a newline`);
    const body = data.subarray(i + 1, pos + len - 1);
    const eq = body.indexOf(0x3d);
    if (eq <= 0) throw new FormatError(`pax header at ${where}: record at byte ${pos} has no keyword`);
    out.push({ key: bstr(body.subarray(0, eq)), value: bstr(body.subarray(eq + 1)) });
    pos += len;
  }
  return out;
}

/** One record's text with its self-including length, as GNU tar's xheader_print_n computes it. */
export function paxRecord(key: string, value: string): string {
  const len = key.length + value.length + 3; // space, '=', newline
  let n = String(len).length;
  let total = len + n;
  // The length includes its own digits; adding them may add a digit.
  while (String(total).length !== n) {
    n = String(total).length;
    total = len + n;
  }
  return `${total} ${key}=${value}\n`;
}

export function serializePax(records: readonly PaxRecord[]): Uint8Array {
  return bytesOf(records.map((r) => paxRecord(r.key, r.value)).join(''));
}

/** A pax time value ("1700000000", "-12.5", "978307200.25") as whole seconds (floor), or undefined. */
export function paxSeconds(value: string): number | undefined {
  const m = /^(-?)(\d{1,16})(?:\.(\d*))?$/.exec(value);
  if (!m) return undefined;
  let s = Number(m[2]);
  if (m[1]) s = -s - (m[3] && /[1-9]/.test(m[3]) ? 1 : 0);
  return Number.isSafeInteger(s) ? s : undefined;
}

/** A pax decimal integer (size, uid), or undefined when malformed. */
export function paxInteger(value: string): number | undefined {
  if (!/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Keep GNU.sparse.* records in their order; otherwise the last of each key, sorted by key. */
export function canonicalRecords(records: readonly PaxRecord[]): PaxRecord[] {
  if (records.some((r) => r.key.startsWith('GNU.sparse.'))) return [...records];
  const last = new Map<string, PaxRecord>();
  for (const r of records) {
    last.delete(r.key);
    last.set(r.key, r);
  }
  return [...last.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
