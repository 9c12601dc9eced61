// The cpio archive inside an RPM (rpm 4.18 lib/cpio.c rpmcpioHeaderWrite, lib/rpmfi.c
// rpmfiArchiveWriteHeader, lib/rpmfiles.c rpmfilesStat): "070701" (newc) headers whose fields
// rpm fills from the main header, not from the disk: ino = FILEINODES[fx], mtime =
// FILEMTIMES[fx], dev 0, check 0; names "./path"; hard links carry the data on the last
// member of their group; the trailer padded to 4 bytes only (no 512-byte block padding).
// So the canonical payload is the input's with each header's mtime and ino taken from the
// canonical header fields, and each regular file's data normalized through the dispatcher;
// everything else (order, modes, owners, nlink, rdev) stays as rpm wrote it.
// The "07070X" stripped format (files over 4 GiB) is not rewritten: the package is left alone.
import { BufferSource, SliceSource, copyRange, hashSource } from '../../src/io.js';
import { FormatError, type Change, type Context, type Sink, type Source } from '../../src/types.js';
import { S_IFMT, S_IFREG, TRAILER, decodeCpio, encodeCpio, padTo, type CpioHeader } from '../cpio/header.js';
import { Unsupported } from './header.js';

const HS = 110;
const MAX_NAME = 1 << 16;
const SMALL = 1 << 20;

/** What the payload rewrite needs from the header, per file index. */
export interface FileTable {
  /** "./usr/bin/x" -> file index. */
  readonly index: ReadonlyMap<string, number>;
  readonly mtimes: readonly number[];
  readonly inodes: readonly number[];
  /** Digest algorithm name for node:crypto ("sha256", "md5", ...). */
  readonly digestAlgo: string;
}

export interface PayloadResult {
  /** True when any byte of the archive changed. */
  readonly changed: boolean;
  /** New digest (hex) and size of files whose data changed, by file index. */
  readonly files: ReadonlyMap<number, { digest: string; size: number }>;
  readonly changes: readonly Change[];
  /** Entries read (trailer excluded). */
  readonly entries: number;
}

class Out {
  pos = 0;
  private parts: Uint8Array[] = [];
  private len = 0;
  constructor(private readonly sink: Sink) {}
  async put(b: Uint8Array): Promise<void> {
    if (!b.length) return;
    this.parts.push(Uint8Array.from(b));
    this.len += b.length;
    this.pos += b.length;
    if (this.len >= SMALL) await this.flush();
  }
  async flush(): Promise<void> {
    if (!this.len) return;
    const buf = Buffer.concat(this.parts, this.len);
    this.parts = [];
    this.len = 0;
    await this.sink.write(buf);
  }
  async pad4(): Promise<void> {
    const n = padTo(this.pos, 4) - this.pos;
    if (n) await this.put(new Uint8Array(n));
  }
  async copy(src: Source): Promise<void> {
    await this.flush();
    await copyRange(src, 0, src.size, { write: (c) => this.put(c), length: 0 });
  }
}

/** A newc header as rpm writes it: lower-case hex (rpm's "%08x"; GNU cpio writes upper case). */
export function encodeRpmCpio(h: CpioHeader): Uint8Array {
  return Buffer.from(Buffer.from(encodeCpio(h, 'newc')).toString('latin1').toLowerCase(), 'latin1');
}

/** A payload name as a member path: "./usr/bin/x" -> "usr/bin/x". */
export function memberName(name: string): string {
  return name.replace(/^\.\//, '');
}


/**
 * Rewrite the cpio archive `payload` into `output`: header mtimes and inodes from `table`, file
 * data through ctx.normalizeMember. Throws FormatError on a malformed archive or a member the
 * header does not list, Unsupported on the stripped format.
 */
export async function rewritePayload(payload: Source, table: FileTable, output: Sink, ctx: Context): Promise<PayloadResult> {
  const out = new Out(output);
  const files = new Map<number, { digest: string; size: number }>();
  const nested: Change[] = [];
  let changed = false;
  let pos = 0;
  let entries = 0;
  const seen = new Set<number>();
  for (;;) {
    ctx.checkDeadline?.();
    if (pos + HS > payload.size) throw new FormatError(`payload: truncated cpio header at offset ${pos}`);
    const hb = await payload.read(pos, HS);
    const magic = Buffer.from(hb.subarray(0, 6)).toString('latin1');
    if (magic === '07070X') throw new Unsupported('payload in the stripped cpio format (07070X, files over 4 GiB): not rewritten');
    if (magic !== '070701') throw new FormatError(`payload: bad cpio magic at offset ${pos} (rpm writes newc "070701")`);
    const h = decodeCpio(hb, 'newc', pos);
    if (h.namesize < 1 || h.namesize > MAX_NAME || pos + HS + h.namesize > payload.size) throw new FormatError(`payload: bad cpio name size at offset ${pos}`);
    const nb = await payload.read(pos + HS, h.namesize);
    if (nb[h.namesize - 1] !== 0) throw new FormatError(`payload: cpio name at offset ${pos} is not NUL-terminated`);
    const name = Buffer.from(nb.subarray(0, h.namesize - 1)).toString('latin1');
    const dataOffset = padTo(pos + HS + h.namesize, 4);
    const end = dataOffset + h.filesize;
    if (end > payload.size) throw new FormatError(`payload: truncated data of "${name.slice(0, 200)}"`);
    if (name === TRAILER) {
      // The trailer as it was, and whatever follows it (rpm writes nothing more).
      await out.put(await payload.read(pos, payload.size - pos));
      await out.flush();
      break;
    }
    const fx = table.index.get(name);
    if (fx === undefined) throw new FormatError(`payload: "${name.slice(0, 200)}" is not in the header's file list`);
    if (seen.has(fx)) throw new FormatError(`payload: "${name.slice(0, 200)}" twice`);
    seen.add(fx);
    entries++;
    let data: Source = h.filesize <= SMALL ? new BufferSource(await payload.read(dataOffset, h.filesize)) : new SliceSource(payload, dataOffset, h.filesize);
    let release: (() => void) | undefined;
    if ((h.mode & S_IFMT) === S_IFREG && h.filesize > 0) {
      const r = await ctx.normalizeMember(Buffer.from(memberName(name), 'latin1').toString('utf8'), data);
      if (r.changed) {
        data = r.output;
        release = () => r.output.release?.();
        for (const c of r.changes) nested.push({ ...c, member: c.member ?? memberName(name) });
        files.set(fx, { digest: await hashSource(data, table.digestAlgo), size: data.size });
        changed = true;
      }
    }
    const nh = encodeRpmCpio({ ...h, mtime: table.mtimes[fx]!, ino: table.inodes[fx]!, filesize: data.size });
    if (!Buffer.from(nh).equals(Buffer.from(hb))) changed = true;
    await out.put(nh);
    await out.put(nb);
    await out.pad4();
    if (data.size <= SMALL) await out.put(await data.read(0, data.size));
    else await out.copy(data);
    release?.();
    await out.pad4();
    pos = padTo(end, 4);
  }
  return { changed, files, changes: nested, entries };
}

/** The archive's members as (name, data) in archive order (for `detnorm diff`). */
export async function listPayload(payload: Source, max = 4_000_000): Promise<Array<{ name: string; mode: number; data: Source }>> {
  const out: Array<{ name: string; mode: number; data: Source }> = [];
  let pos = 0;
  while (out.length < max) {
    if (pos + HS > payload.size) throw new FormatError(`payload: truncated cpio header at offset ${pos}`);
    const hb = await payload.read(pos, HS);
    if (Buffer.from(hb.subarray(0, 6)).toString('latin1') !== '070701') throw new FormatError(`payload: bad cpio magic at offset ${pos}`);
    const h = decodeCpio(hb, 'newc', pos);
    if (h.namesize < 1 || h.namesize > MAX_NAME || pos + HS + h.namesize > payload.size) throw new FormatError(`payload: bad cpio name size at offset ${pos}`);
    const name = Buffer.from((await payload.read(pos + HS, h.namesize)).subarray(0, h.namesize - 1)).toString('latin1');
    const dataOffset = padTo(pos + HS + h.namesize, 4);
    if (dataOffset + h.filesize > payload.size) throw new FormatError(`payload: truncated data of "${name.slice(0, 200)}"`);
    if (name === TRAILER) break;
    out.push({ name, mode: h.mode, data: new SliceSource(payload, dataOffset, h.filesize) });
    pos = padTo(dataOffset + h.filesize, 4);
  }
  return out;
}
