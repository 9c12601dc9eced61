// Test-only zip builder: writes archives with whatever fields a test wants (times, hosts,
// modes, extra fields, data descriptors, prefixes, relative offsets), independently of the
// handler's writer, so tests can craft odd and hostile inputs.
import pako from 'pako';
import { crc32 } from '../formats/crc32.js';
import { encodeCentral, encodeEocd, encodeExtra, encodeLocal, type ExtraField } from '../formats/zip/records.js';

export interface RawEntry {
  name: string | Uint8Array;
  data?: Uint8Array | string;
  method?: 0 | 8;
  level?: number;
  date?: number;
  time?: number;
  madeBy?: number;
  needed?: number;
  external?: number;
  internal?: number;
  flags?: number;
  localExtra?: ExtraField[];
  centralExtra?: ExtraField[];
  descriptor?: 'signed' | 'plain';
  comment?: string;
}

const enc = new TextEncoder();
const bytes = (x: string | Uint8Array | undefined) => (x === undefined ? new Uint8Array(0) : typeof x === 'string' ? enc.encode(x) : x);

export function buildZip(entries: RawEntry[], opts: { comment?: string; prefix?: Uint8Array; relative?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  const prefix = opts.prefix ?? new Uint8Array(0);
  parts.push(prefix);
  let pos = prefix.length;
  const base = opts.relative ? prefix.length : 0;
  for (const e of entries) {
    const name = bytes(e.name);
    const plain = bytes(e.data);
    const method = e.method ?? 0;
    const packed = method === 8 ? pako.deflateRaw(plain, { level: (e.level ?? 6) as 6 }) : plain;
    const crc = crc32(plain);
    const flags = (e.flags ?? 0) | (e.descriptor ? 8 : 0);
    const lx = encodeExtra(e.localExtra ?? []);
    const cx = encodeExtra(e.centralExtra ?? []);
    const comment = bytes(e.comment);
    const common = {
      versionNeeded: e.needed ?? 20,
      flags,
      method,
      time: e.time ?? 0x6000,
      date: e.date ?? 0x5021,
    };
    const local = encodeLocal({
      ...common,
      crc: e.descriptor ? 0 : crc,
      compressedSize: e.descriptor ? 0 : packed.length,
      uncompressedSize: e.descriptor ? 0 : plain.length,
      nameLength: name.length,
      extraLength: lx.length,
    });
    const offset = pos;
    for (const p of [local, name, lx, packed]) {
      parts.push(p);
      pos += p.length;
    }
    if (e.descriptor) {
      const d = new Uint8Array(e.descriptor === 'signed' ? 16 : 12);
      const v = new DataView(d.buffer);
      let i = 0;
      if (e.descriptor === 'signed') v.setUint32((i += 4) - 4, 0x08074b50, true);
      v.setUint32(i, crc, true);
      v.setUint32(i + 4, packed.length, true);
      v.setUint32(i + 8, plain.length, true);
      parts.push(d);
      pos += d.length;
    }
    const c = encodeCentral({
      versionMadeBy: e.madeBy ?? 0x031e,
      ...common,
      crc,
      compressedSize: packed.length,
      uncompressedSize: plain.length,
      nameLength: name.length,
      extraLength: cx.length,
      commentLength: comment.length,
      diskStart: 0,
      internalAttributes: e.internal ?? 0,
      externalAttributes: e.external ?? (0o100644 << 16) >>> 0,
      localOffset: offset - base,
    });
    central.push(c, name, cx, comment);
  }
  const cdOffset = pos;
  let cdSize = 0;
  for (const c of central) {
    parts.push(c);
    cdSize += c.length;
  }
  const comment = bytes(opts.comment);
  parts.push(
    encodeEocd({ disk: 0, cdDisk: 0, entriesOnDisk: entries.length, entries: entries.length, cdSize, cdOffset: cdOffset - base, commentLength: comment.length }),
    comment,
  );
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Parse an archive with the handler's reader into name -> {data, mode} (for content checks), via python-free JS. */
export { crc32 };
