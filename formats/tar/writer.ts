// Our tar writer, producing exactly what GNU tar 1.34 writes with --owner=0 --group=0
// --numeric-owner, in one of three formats:
//  - gnu:   names and link targets over 100 bytes go in '././@LongLink' 'K' (link first)
//           and 'L' headers (mode 0644, mtime 0, data = the string + NUL); base-256 numbers.
//  - ustar: names over 100 bytes split into prefix/name as GNU's split_long_name does.
//  - posix: one 'x' header per member when needed, named "%d/PaxHeaders/%f", mode 0644,
//           mtime T (or 0); records in GNU tar's order: linkpath (target over 100 bytes),
//           path (name over 100 bytes or not ASCII), size (over 8 GiB), mtime (negative or
//           past 2242: the header field is then 0), then any other records kept from the
//           input. The header's name/linkname fields hold the first 100 bytes.
// Then two zero blocks and zeros up to a multiple of the 10240-byte record.
import { readInto } from '../../src/io.js';
import { FormatError, type Sink, type Source } from '../../src/types.js';
import { BLOCK, RECORD, bytesOf, encodeHeader, maxOctal, splitUstarName, type HeaderFields, type TarFormat } from './header.js';
import { serializePax, type PaxRecord } from './pax.js';

export interface OutEntry {
  name: string;
  linkname: string;
  typeflag: string;
  mode: number;
  mtime: number;
  /** Bytes of data that follow the header (0 for links, directories, devices, fifos). */
  size: number;
  devmajor: number;
  devminor: number;
  /** Pax records kept from the input (posix format only). */
  records: readonly PaxRecord[];
  gnuSparseArea?: Uint8Array;
  gnuSparseExt?: Uint8Array;
  /** Numeric owner to write (absent: 0, as --owner=0 --group=0). Used by container layers. */
  uid?: number;
  gid?: number;
  /** Owner names to write (absent: empty, as --numeric-owner). Used by Debian packages ("root"). */
  uname?: string;
  gname?: string;
}

/** The name GNU tar gives an entry's extended header with exthdr.name=%d/PaxHeaders/%f. */
export function paxHeaderName(name: string): string {
  let s = name;
  while (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  const slash = s.lastIndexOf('/');
  let dir: string;
  let base: string;
  if (slash < 0) {
    dir = '.';
    base = s;
  } else {
    base = s.slice(slash + 1);
    dir = s.slice(0, slash);
    while (dir.length > 1 && dir.endsWith('/')) dir = dir.slice(0, -1);
    if (dir === '') dir = '/';
  }
  return `${dir}/PaxHeaders/${base}`;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

const isDevice = (t: string) => t === '3' || t === '4';

const GATHER = 1 << 20;

export class TarWriter {
  /** Small pieces (headers, padding, small members) are gathered here and written in 1 MiB writes. */
  private readonly gather = new Uint8Array(GATHER);
  private pendingLen = 0;
  private written = 0;
  private dataLeft = 0;
  private dataSize = 0;

  /**
   * `paxMtime`: the mtime of private headers ('x', 'g'): T, or 0 without T. `longLinkOwner`:
   * the owner names GNU tar puts in '././@LongLink' headers when it runs without
   * --numeric-owner (those of uid/gid 0: "root", as dpkg-deb's tar writes them); default empty.
   */
  constructor(
    private readonly sink: Sink,
    readonly format: TarFormat,
    private readonly paxMtime: number,
    private readonly longLinkOwner?: { readonly uname: string; readonly gname: string },
  ) {}

  get offset(): number {
    return this.written + this.pendingLen;
  }

  /** Copies `chunk` (or writes it through): the caller may reuse it once this resolves. */
  private async put(chunk: Uint8Array): Promise<void> {
    if (chunk.length >= 256 * 1024) {
      await this.flush();
      await this.sink.write(chunk);
      this.written += chunk.length;
      return;
    }
    if (this.pendingLen + chunk.length > GATHER) await this.flush();
    this.gather.set(chunk, this.pendingLen);
    this.pendingLen += chunk.length;
  }

  async flush(): Promise<void> {
    if (!this.pendingLen) return;
    const n = this.pendingLen;
    this.pendingLen = 0;
    // A sink does not keep a chunk past write() (types.ts), so the gather buffer is reused.
    await this.sink.write(this.gather.subarray(0, n));
    this.written += n;
  }

  private async putPadded(data: Uint8Array): Promise<void> {
    await this.put(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) await this.put(new Uint8Array(pad));
  }

  private privateHeader(name: string, size: number, typeflag: string, mtime: number): Uint8Array {
    const owner = typeflag === 'K' || typeflag === 'L' ? this.longLinkOwner : undefined;
    return encodeHeader(
      { name: name.slice(0, 100), mode: 0o644, uid: 0, gid: 0, size, mtime, typeflag, linkname: '', uname: owner?.uname ?? '', gname: owner?.gname ?? '' },
      this.format,
    );
  }

  /** A pax global header (posix format only). */
  async global(name: string, records: readonly PaxRecord[]): Promise<void> {
    const data = serializePax(records);
    await this.put(this.privateHeader(name, data.length, 'g', this.paxMtime));
    await this.putPadded(data);
  }

  /** The header(s) of one member; its `size` bytes of data must follow through data() or copyFrom(). */
  async header(e: OutEntry): Promise<void> {
    if (this.dataLeft) throw new Error('tar writer: previous member data incomplete');
    for (const b of this.headerBlocks(e)) await this.put(b);
    this.dataLeft = e.size;
    this.dataSize = e.size;
  }

  /** The blocks of a member's header(s), in order (extension headers, then the header). */
  private headerBlocks(e: OutEntry): Uint8Array[] {
    const out: Uint8Array[] = [];
    const padded = (d: Uint8Array) => {
      out.push(d);
      const pad = (BLOCK - (d.length % BLOCK)) % BLOCK;
      if (pad) out.push(new Uint8Array(pad));
    };
    const f = this.format;
    const h: HeaderFields = {
      name: e.name,
      mode: e.mode,
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      size: e.size,
      mtime: e.mtime,
      typeflag: e.typeflag,
      linkname: e.linkname,
      uname: e.uname ?? '',
      gname: e.gname ?? '',
    };
    if (f === 'gnu') {
      if (isDevice(e.typeflag)) {
        h.devmajor = e.devmajor;
        h.devminor = e.devminor;
      }
      if (e.records.length) throw new FormatError(`pax records cannot be kept in a GNU-format archive`);
      if (e.linkname.length > 100) {
        const d = bytesOf(e.linkname + '\0');
        out.push(this.privateHeader('././@LongLink', d.length, 'K', 0));
        padded(d);
      }
      if (e.name.length > 100) {
        const d = bytesOf(e.name + '\0');
        out.push(this.privateHeader('././@LongLink', d.length, 'L', 0));
        padded(d);
      }
      h.name = e.name.slice(0, 100);
      h.linkname = e.linkname.slice(0, 100);
      h.gnuSparseArea = e.gnuSparseArea;
    } else {
      h.devmajor = isDevice(e.typeflag) ? e.devmajor : 0;
      h.devminor = isDevice(e.typeflag) ? e.devminor : 0;
      if (e.gnuSparseArea) throw new FormatError(`GNU sparse member cannot be written in ${f} format`);
      if (f === 'ustar') {
        if (e.linkname.length > 100) throw new FormatError(`link target over 100 bytes cannot be written in ustar format`);
        const split = splitUstarName(e.name);
        if (!split) throw new FormatError(`name cannot be split into ustar prefix and name`);
        h.name = split.name;
        h.prefix = split.prefix;
        if (e.mtime < 0 || e.mtime > maxOctal(12)) throw new FormatError(`mtime ${e.mtime} cannot be written in ustar format`);
      } else {
        const recs: PaxRecord[] = [];
        if (e.linkname.length > 100) recs.push({ key: 'linkpath', value: e.linkname });
        if (e.name.length > 100 || !isAscii(e.name)) recs.push({ key: 'path', value: e.name });
        if (e.size > maxOctal(12)) {
          recs.push({ key: 'size', value: String(e.size) });
          h.size = 0;
        }
        if (e.mtime < 0 || e.mtime > maxOctal(12)) {
          recs.push({ key: 'mtime', value: String(e.mtime) });
          h.mtime = 0;
        }
        recs.push(...e.records);
        if (recs.length) {
          const d = serializePax(recs);
          out.push(this.privateHeader(paxHeaderName(e.name), d.length, 'x', this.paxMtime));
          padded(d);
        }
        h.name = e.name.slice(0, 100);
        h.linkname = e.linkname.slice(0, 100);
      }
    }
    out.push(encodeHeader(h, f));
    if (f === 'gnu' && e.gnuSparseExt) out.push(e.gnuSparseExt);
    return out;
  }

  /**
   * One member whose data is read from `src` straight into the gather buffer behind its header
   * and shown to `inspect`, all without a copy: when `inspect` returns nothing the member stays
   * as read, else header and data are dropped and written again from `e` (whose size the caller
   * has set) and the returned source. False (nothing written) when the member does not fit.
   */
  async memberInPlace(e: OutEntry, src: Source, offset: number, inspect: (data: Uint8Array) => Promise<Source | undefined>): Promise<boolean> {
    if (this.dataLeft) throw new Error('tar writer: previous member data incomplete');
    const blocks = this.headerBlocks(e);
    const headerLen = blocks.reduce((n, b) => n + b.length, 0);
    const dataLen = Math.ceil(e.size / BLOCK) * BLOCK;
    if (headerLen + dataLen > GATHER) return false;
    if (this.pendingLen + headerLen + dataLen > GATHER) await this.flush();
    const mark = this.pendingLen;
    for (const b of blocks) {
      this.gather.set(b, this.pendingLen);
      this.pendingLen += b.length;
    }
    const at = this.pendingLen;
    await readInto(src, offset, this.gather.subarray(at, at + e.size));
    const replacement = await inspect(this.gather.subarray(at, at + e.size));
    if (!replacement) {
      this.gather.fill(0, at + e.size, at + dataLen);
      this.pendingLen = at + dataLen;
      return true;
    }
    this.pendingLen = mark;
    await this.header(e);
    await this.copyFrom(replacement, 0, replacement.size);
    return true;
  }

  /** Member data from a source, read straight into the gather buffer (as data() would write it). */
  async copyFrom(src: Source, offset: number, length: number): Promise<void> {
    if (length > this.dataLeft) throw new Error('tar writer: more data than the header said');
    for (let done = 0; done < length; ) {
      if (GATHER - this.pendingLen < 64 * 1024) await this.flush();
      const n = Math.min(GATHER - this.pendingLen, length - done);
      await readInto(src, offset + done, this.gather.subarray(this.pendingLen, this.pendingLen + n));
      this.pendingLen += n;
      done += n;
    }
    await this.dataDone(length);
  }

  /** Count `n` data bytes written; after the member's last byte, pad it to 512 bytes. */
  private async dataDone(n: number): Promise<void> {
    if (n === 0) return;
    this.dataLeft -= n;
    if (this.dataLeft === 0) {
      const pad = (BLOCK - (this.dataSize % BLOCK)) % BLOCK;
      if (pad) await this.put(new Uint8Array(pad));
    }
  }

  /** Member data, in order; the padding to 512 bytes is added when the last byte arrives. */
  async data(chunk: Uint8Array): Promise<void> {
    if (chunk.length > this.dataLeft) throw new Error('tar writer: more data than the header said');
    await this.put(chunk);
    await this.dataDone(chunk.length);
  }

  /** Two zero blocks, then zeros to the end of the 10240-byte record. */
  async finish(): Promise<void> {
    if (this.dataLeft) throw new Error('tar writer: last member data incomplete');
    const end = this.offset + 2 * BLOCK;
    const total = Math.ceil(end / RECORD) * RECORD;
    await this.put(new Uint8Array(total - this.offset));
    await this.flush();
  }
}
