// Streaming tar reader over a Source: ustar, GNU (././@LongLink 'L'/'K' long names and link
// names, 'S' sparse entries kept as raw bytes) and pax (per-entry 'x' and global 'g'
// extended headers). Yields one logical entry per member with where its data lies; it never
// reads member data, so memory is bounded by the largest header, not by the archive.
// Malformed input (bad checksum, truncation, bad numeric fields, bad pax records, data after
// the end-of-archive blocks) is a FormatError naming the offset.
import { FormatError, type Source } from '../../src/types.js';
import { BLOCK, bstr, cString, decodeHeader, isZeroBlock, type DecodedHeader } from './header.js';
import { parsePax, paxInteger, paxSeconds, type PaxRecord } from './pax.js';

/** Largest 'L'/'K' long name or pax header we accept (GNU tar has no limit; hostile input does). */
export const MAX_META_BYTES = 16 * 1024 * 1024;
/** Largest member count (memory grows with the count: about 300 bytes each). */
export const MAX_ENTRIES = 4_000_000;

export interface TarEntry {
  /** Full member name (byte string) after long-name and pax 'path' resolution. */
  name: string;
  linkname: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  /** Seconds since the epoch (a pax fraction floored). */
  mtime: number;
  devmajor: number;
  devminor: number;
  /** Archive offset of the member's data, and its length in the archive. */
  dataOffset: number;
  size: number;
  /** Pax records of the member other than those the canonical form regenerates or drops. */
  records: PaxRecord[];
  /** Pax records present in the input (all keys), for change reporting. */
  paxKeys: string[];
  /** Every pax record of the member as the input has it (atime, ctime included), for `detnorm diff`. */
  paxAll: PaxRecord[];
  /** The header magic of the member's own header. */
  magic: DecodedHeader['magic'];
  /** Whether a GNU long name / long link header preceded it. */
  gnuLong: boolean;
  /** GNU 'S' sparse: raw bytes 369..512 of the header and the raw extension blocks. */
  gnuSparseArea?: Uint8Array;
  gnuSparseExt?: Uint8Array;
  headerOffset: number;
}

export interface TarGlobal {
  name: string;
  records: PaxRecord[];
  offset: number;
}

export type TarItem = { kind: 'entry'; entry: TarEntry } | { kind: 'global'; global: TarGlobal };

/** Keys the canonical form regenerates from the entry's final values. */
const REGENERATED = new Set(['path', 'linkpath', 'size', 'mtime']);
/** Keys the canonical form drops: times, owners, inode data. */
const DROPPED = new Set([
  'atime',
  'ctime',
  'uid',
  'gid',
  'uname',
  'gname',
  'SCHILY.dev',
  'SCHILY.ino',
  'SCHILY.nlink',
  'LIBARCHIVE.creationtime',
]);

/** True for a pax keyword the canonical archive does not carry over from the input. */
export function isDroppedKey(key: string): boolean {
  return REGENERATED.has(key) || DROPPED.has(key);
}

/**
 * Reads blocks through a window: 64 KiB while headers come close together (small members cost
 * one read per window), 8 KiB after a jump over member data (a scan of large members does not
 * read their data).
 */
class BlockReader {
  private win: Uint8Array = new Uint8Array(0);
  private winStart = 0;
  constructor(private readonly src: Source) {}
  async block(pos: number): Promise<Uint8Array> {
    const rel = pos - this.winStart;
    if (rel >= 0 && rel + BLOCK <= this.win.length) return this.win.subarray(rel, rel + BLOCK);
    const jumped = pos > this.winStart + this.win.length + 8 * 1024;
    const len = Math.min(jumped ? 8 * 1024 : 64 * 1024, this.src.size - pos);
    this.win = await this.src.read(pos, len);
    this.winStart = pos;
    return this.win.subarray(0, BLOCK);
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / BLOCK) * BLOCK;
}

async function readMeta(src: Source, at: number, size: number, what: string): Promise<Uint8Array> {
  if (size > MAX_META_BYTES) throw new FormatError(`${what} at offset ${at - BLOCK} is ${size} bytes (limit ${MAX_META_BYTES})`);
  if (at + size > src.size) throw new FormatError(`truncated ${what} at offset ${at - BLOCK}`);
  return Uint8Array.from(await src.read(at, size));
}

/** Stops before `end`; yields entries and global headers in archive order. */
export async function* readTar(src: Source): AsyncGenerator<TarItem> {
  const blocks = new BlockReader(src);
  let pos = 0;
  let count = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax: PaxRecord[] | undefined;
  let pendingAt = -1;
  for (;;) {
    if (pos >= src.size) break; // no end-of-archive blocks: tolerated, as GNU tar and Python do
    if (src.size - pos < BLOCK) {
      const rest = await src.read(pos, src.size - pos);
      if (isZeroBlock(rest)) break;
      throw new FormatError(`truncated header at offset ${pos}`);
    }
    const block = await blocks.block(pos);
    if (isZeroBlock(block)) {
      // End of archive: everything after must be zeros (record padding).
      await checkZeros(src, pos + BLOCK);
      if (pendingAt >= 0) throw new FormatError(`extended header at offset ${pendingAt} is not followed by a member`);
      return;
    }
    const h = decodeHeader(block, pos);
    const headerOffset = pos;
    pos += BLOCK;
    const t = h.typeflag;
    if (t === 'L' || t === 'K') {
      const data = await readMeta(src, pos, h.size, t === 'L' ? 'GNU long name' : 'GNU long link name');
      const value = cString(data, [0, data.length]);
      if (t === 'L') longName = value;
      else longLink = value;
      if (pendingAt < 0) pendingAt = headerOffset;
      pos += roundUp(h.size);
      continue;
    }
    if (t === 'x' || t === 'X') {
      const data = await readMeta(src, pos, h.size, 'pax extended header');
      const recs = parsePax(data, headerOffset);
      pax = pax ? [...pax, ...recs] : recs;
      if (pendingAt < 0) pendingAt = headerOffset;
      pos += roundUp(h.size);
      continue;
    }
    if (t === 'g') {
      const data = await readMeta(src, pos, h.size, 'pax global header');
      if (pendingAt >= 0) throw new FormatError(`pax global header at offset ${headerOffset} between an extended header and its member`);
      const records = parsePax(data, headerOffset);
      for (const r of records) {
        if (r.key === 'path' || r.key === 'linkpath' || r.key === 'size') {
          throw new FormatError(`pax global header at offset ${headerOffset} sets "${r.key}" for every member: not supported`);
        }
      }
      yield { kind: 'global', global: { name: h.name, records, offset: headerOffset } };
      pos += roundUp(h.size);
      continue;
    }
    if (++count > MAX_ENTRIES) throw new FormatError(`more than ${MAX_ENTRIES} members`);
    // The member's own header.
    const paxMap = new Map<string, string>();
    for (const r of pax ?? []) paxMap.set(r.key, r.value);
    let name = h.prefix ? `${h.prefix}/${h.name}` : h.name;
    if (longName !== undefined) name = longName;
    if (paxMap.has('path')) name = paxMap.get('path')!;
    let linkname = h.linkname;
    if (longLink !== undefined) linkname = longLink;
    if (paxMap.has('linkpath')) linkname = paxMap.get('linkpath')!;
    let size = h.size;
    if (paxMap.has('size')) {
      const s = paxInteger(paxMap.get('size')!);
      if (s === undefined) throw new FormatError(`bad pax size "${paxMap.get('size')}" at offset ${pendingAt}`);
      size = s;
    }
    let mtime = h.mtime;
    if (paxMap.has('mtime')) {
      const s = paxSeconds(paxMap.get('mtime')!);
      if (s === undefined) throw new FormatError(`bad pax mtime "${paxMap.get('mtime')}" at offset ${pendingAt}`);
      mtime = s;
    }
    const uid = paxMap.has('uid') ? paxInteger(paxMap.get('uid')!) ?? h.uid : h.uid;
    const gid = paxMap.has('gid') ? paxInteger(paxMap.get('gid')!) ?? h.gid : h.gid;
    if (size < 0) throw new FormatError(`negative size ${size} at offset ${headerOffset}`);
    if (!name) throw new FormatError(`empty member name at offset ${headerOffset}`);
    const entry: TarEntry = {
      name,
      linkname,
      typeflag: t,
      mode: h.mode,
      uid,
      gid,
      uname: paxMap.get('uname') ?? h.uname,
      gname: paxMap.get('gname') ?? h.gname,
      mtime,
      devmajor: h.devmajor,
      devminor: h.devminor,
      dataOffset: 0,
      size,
      records: (pax ?? []).filter((r) => !isDroppedKey(r.key)),
      paxKeys: (pax ?? []).map((r) => r.key),
      paxAll: pax ?? [],
      magic: h.magic,
      gnuLong: longName !== undefined || longLink !== undefined,
      headerOffset,
    };
    if (t === 'S' && h.magic === 'gnu') {
      entry.gnuSparseArea = Uint8Array.from(block.subarray(369, 512));
      // Extension blocks follow while the previous block's isextended byte is set.
      const ext: Uint8Array[] = [];
      let more = block[482] !== 0;
      while (more) {
        if (pos + BLOCK > src.size) throw new FormatError(`truncated sparse extension block at offset ${pos}`);
        const b = Uint8Array.from(await blocks.block(pos));
        ext.push(b);
        more = b[504] !== 0;
        pos += BLOCK;
        if (ext.length > MAX_META_BYTES / BLOCK) throw new FormatError(`too many sparse extension blocks at offset ${headerOffset}`);
      }
      if (ext.length) entry.gnuSparseExt = Buffer.concat(ext);
    }
    const hasData = !(t === '1' || t === '2' || t === '3' || t === '4' || t === '5' || t === '6');
    if (!hasData && size !== 0) {
      throw new FormatError(`${describeType(t)} entry "${printable(name)}" at offset ${headerOffset} has a data size of ${size}`);
    }
    entry.dataOffset = pos;
    if (pos + size > src.size) throw new FormatError(`truncated data of "${printable(name)}": ${size} bytes at offset ${pos}, ${src.size - pos} left`);
    pos += roundUp(size);
    longName = longLink = pax = undefined;
    pendingAt = -1;
    yield { kind: 'entry', entry };
  }
  if (pendingAt >= 0) throw new FormatError(`extended header at offset ${pendingAt} is not followed by a member`);
}

async function checkZeros(src: Source, from: number): Promise<void> {
  for (let at = from; at < src.size; at += 1 << 20) {
    const n = Math.min(1 << 20, src.size - at);
    const chunk = await src.read(at, n);
    for (let i = 0; i < n; i++) {
      if (chunk[i] !== 0) throw new FormatError(`data after the end-of-archive block at offset ${at + i}`);
    }
  }
}

export function describeType(t: string): string {
  switch (t) {
    case '1':
      return 'hard link';
    case '2':
      return 'symlink';
    case '3':
      return 'character device';
    case '4':
      return 'block device';
    case '5':
      return 'directory';
    case '6':
      return 'fifo';
    default:
      return `type ${JSON.stringify(t)}`;
  }
}

/** A byte-string name for messages (UTF-8 decoded, control characters escaped). */
export function printable(name: string): string {
  const s = Buffer.from(name, 'latin1').toString('utf8');
  return s.replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).slice(0, 300);
}

export { bstr };
