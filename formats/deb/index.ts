// Debian binary packages (.deb, .udeb, .ddeb; deb(5) format 2.0). Canonical form = what
// dpkg-deb 1.21 (Debian 12) writes with `--build --root-owner-group` and SOURCE_DATE_EPOCH=T
// for the same tree (src/deb/build.c, lib/dpkg/ar.c):
//  - ar: `debian-binary`, `control.tar.*`, `data.tar.*` in that order; headers as dpkg writes
//    them (name without GNU's '/', mtime T or 0, uid 0, gid 0, mode 100644);
//  - both tars as `tar --format=gnu --mtime=@T --owner=root:0 --group=root:0 --no-recursion` is
//    fed dpkg's file list: a directory before its contents, siblings in strcmp order, and in
//    data.tar every symlink moved after all other members; names "./..."; owners root/root;
//    control.tar modes `--mode=u+rw,go=rX`; data.tar modes as stored less group/other write
//    (the umask 022 every Debian build uses: set-id bits and narrower modes are kept);
//  - each tar compressed as the input's was (gzip, xz, zstd, bzip2 or none), recompressed with
//    the payload codecs only when it changed (xz in dpkg-deb's multi-threaded layout when the
//    input has it: formats/compressed/xz.ts).
// Files inside data.tar go through ctx.normalizeMember (man pages' .gz, jars, .pyc...).
// A signed package (an `_gpg*` member) and packages with other extra members are left alone.
import { SliceSource, copyRange, sourcesEqual } from '../../src/io.js';
import { canonicalTime } from '../../src/time.js';
import { FormatError, type Change, type Comparison, type Context, type Handler, type HandlerResult, type MemberInfo, type Probe, type Sink, type Source } from '../../src/types.js';
import { AR_FIELDS } from '../ar.js';
import { compareMemberLists, type FieldSpec } from '../compare.js';
import { GLOBAL_MAGIC, encodeHeader, showField } from '../ar/header.js';
import { Unsupported, parseArchive, type Entry } from '../ar/parse.js';
import { bzip2Codec } from '../compressed/bzip2.js';
import { DivergingSink, decodeToSpill, encodePayload, type PayloadCodec } from '../compressed/payload.js';
import type { EncodingSink } from '../../src/codecs/stream.js';
import { xzCodec } from '../compressed/xz.js';
import { zstdCodec } from '../compressed/zstd.js';
import { gzipCodec } from '../gzip.js';
import { normalizeTarAs, type TarFlavor } from '../tar/index.js';
import type { OutEntry } from '../tar/writer.js';
import { Tally, mergeNested } from '../tally.js';
import { debDetection } from './detect.js';

/** The ar member mode dpkg-deb writes (lib/dpkg/ar.c: 0100644, printed in octal). */
const AR_MODE = 0o100644;
const ROOT = { uname: 'root', gname: 'root' };

/** control.tar: `--mode=u+rw,go=rX` (gnulib modechange: directories keep their set-gid bit). */
export function controlMode(typeflag: string, mode: number): number {
  const dir = typeflag === '5';
  const x = dir || (mode & 0o111) !== 0;
  return (mode & 0o4100) | 0o644 | (x ? 0o011 : 0) | (dir ? mode & 0o2000 : 0);
}

/** data.tar: the mode as stored without group/other write (umask 022); symlinks 0777 (Linux lstat). */
export function dataMode(typeflag: string, mode: number): number {
  return typeflag === '2' ? 0o777 : mode & ~0o022;
}

const CONTROL: TarFlavor = { mode: controlMode, modeRule: 'u+rw,go=rX (dpkg-deb control)', owner: ROOT, orderRule: 'dpkg-deb' };
const DATA: TarFlavor = {
  mode: dataMode,
  modeRule: 'g-w,o-w (umask 022)',
  owner: ROOT,
  orderRule: 'dpkg-deb (symlinks last)',
  order: (sorted: OutEntry[]) => [...sorted.filter((o) => o.typeflag !== '2'), ...sorted.filter((o) => o.typeflag === '2')],
};

const CODECS: Record<string, PayloadCodec<unknown> | undefined> = {
  '': undefined,
  '.gz': gzipCodec as PayloadCodec<unknown>,
  '.xz': xzCodec as PayloadCodec<unknown>,
  '.zst': zstdCodec as PayloadCodec<unknown>,
  '.bz2': bzip2Codec as PayloadCodec<unknown>,
};

function latin1(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'latin1'));
}

interface Layout {
  readonly binary: Entry;
  readonly control: Entry;
  readonly data: Entry;
  /** data.tar came before control.tar. */
  readonly reordered: boolean;
  /** The archive had a symbol or long-name table (dpkg-deb writes none). */
  readonly tables: boolean;
}

/** The three members, or why the package is left alone. */
async function layoutOf(input: Source, ctx: Context): Promise<Layout | { untouched: string }> {
  const parsed = await parseArchive(input, ctx.options.limits.memoryBytes);
  if (parsed instanceof Unsupported) return { untouched: parsed.reason };
  const members = parsed.entries.filter((e) => e.kind === 'member');
  const signed = members.find((e) => e.name.startsWith('_gpg'));
  if (signed) return { untouched: `signed package (member ${signed.name}): left as it is` };
  const binary = members[0];
  if (!binary || binary.name !== 'debian-binary') throw new FormatError('not a Debian package: the first member is not debian-binary');
  const version = Buffer.from(await input.read(binary.dataOffset, Math.min(binary.dataSize, 16))).toString('latin1');
  if (!/^2\.\d+\n/.test(version)) return { untouched: `deb format ${JSON.stringify(version.trim())}: only 2.x is supported` };
  const control = members.filter((e) => e.name.startsWith('control.tar'));
  const data = members.filter((e) => e.name.startsWith('data.tar'));
  const other = members.filter((e) => e !== binary && !control.includes(e) && !data.includes(e));
  if (other.length) return { untouched: `extra member ${other[0]!.name}: left as it is` };
  if (control.length !== 1 || data.length !== 1) throw new FormatError(`a Debian package has one control.tar and one data.tar member (found ${control.length} and ${data.length})`);
  return { binary, control: control[0]!, data: data[0]!, reordered: members.indexOf(data[0]!) < members.indexOf(control[0]!), tables: parsed.entries.some((e) => e.kind !== 'member') };
}

/**
 * A tar member normalized the dpkg-deb way: its new bytes, or undefined when they stay.
 * Temp disk: the decompressed tar, and the new compressed member. The normalized tar is never
 * kept: it is compared with the old one as it is written, and only from the first byte that
 * differs is it compressed (the identical prefix first) straight into the new member. A codec
 * whose encoder needs the payload's size first (zstd: the CLI pledges it) gets the normalized
 * tar from a spill instead.
 */
async function normalizeTarMember(input: Source, e: Entry, flavor: TarFlavor, ctx: Context, tally: Tally, nested: Change[]): Promise<Source | { untouched: string } | undefined> {
  const prefix = e.name.startsWith('control.tar') ? 'control.tar' : 'data.tar';
  const ext = e.name.slice(prefix.length);
  if (!(ext in CODECS)) return { untouched: `${e.name}: compression not supported` };
  const codec = CODECS[ext];
  const member = new SliceSource(input, e.dataOffset, e.dataSize);
  const mctx: Context = { ...ctx, path: `${ctx.path}!/${e.name}`, normalizeMember: (n, m) => ctx.normalizeMember(`${e.name}!/${n}`, m) };
  if (!codec) {
    const out = ctx.spill();
    const r = await normalizeTarAs(member, out, mctx, flavor);
    if (r.status === 'untouched') {
      out.release?.();
      return { untouched: `${e.name}: ${r.reason}` };
    }
    const normalized = await out.close();
    if (await sourcesEqual(normalized, member)) {
      normalized.release?.();
      return undefined;
    }
    for (const c of r.changes) nested.push({ ...c, member: c.member ? `${e.name}!/${c.member}` : e.name });
    return normalized;
  }
  const decoded = await decodeToSpill(codec, member, mctx);
  if ('untouched' in decoded) return { untouched: `${e.name}: ${decoded.untouched}` };
  const { parsed, payload: tar } = decoded;
  try {
    if (parsed.end !== member.size) throw new FormatError(`${e.name}: ${member.size - parsed.end} bytes after the compressed data`);
    for (const c of parsed.headerChanges ?? []) nested.push({ ...c, member: e.name });
    const result = ctx.spill();
    let encoder: EncodingSink | undefined;
    let normalized: Source | undefined;
    let same: boolean;
    let r;
    if (!codec.needsSize) {
      const cmp = new DivergingSink(tar, async () => (encoder = await codec.encoder(parsed.settings, -1, result)));
      r = await normalizeTarAs(tar, cmp, mctx, flavor);
      same = r.status === 'normalized' && (await cmp.finish());
    } else {
      const out = ctx.spill();
      r = await normalizeTarAs(tar, out, mctx, flavor);
      normalized = await out.close();
      same = await sourcesEqual(normalized, tar);
    }
    if (r.status === 'untouched' || (same && !parsed.headerChanges?.length)) {
      result.release?.();
      normalized?.release?.();
      return r.status === 'untouched' ? { untouched: `${e.name}: ${r.reason}` } : undefined;
    }
    if (same && codec.writeUnchanged) {
      normalized?.release?.();
      await codec.writeUnchanged(member, parsed, result);
      return result.close();
    }
    for (const c of r.changes) nested.push({ ...c, member: c.member ? `${e.name}!/${c.member}` : e.name });
    if (encoder) await encoder.finish();
    else await encodePayload(codec, normalized ?? tar, parsed.settings, result);
    normalized?.release?.();
    tally.add('compression', `${e.name} recompressed`, `${e.name} recompressed with ${codec.describe(parsed.settings)}`);
    return result.close();
  } finally {
    tar.release?.();
  }
}

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  const layout = await layoutOf(input, ctx);
  if ('untouched' in layout) return { status: 'untouched', reason: layout.untouched };
  const tally = new Tally();
  const nested: Change[] = [];
  const control = await normalizeTarMember(input, layout.control, CONTROL, ctx, tally, nested);
  if (control && 'untouched' in control) return { status: 'untouched', reason: control.untouched };
  const data = await normalizeTarMember(input, layout.data, DATA, ctx, tally, nested);
  if (data && 'untouched' in data) return { status: 'untouched', reason: data.untouched };

  await output.write(latin1(GLOBAL_MAGIC));
  const parts: Array<[Entry, Source | undefined]> = [
    [layout.binary, undefined],
    [layout.control, control],
    [layout.data, data],
  ];
  if (layout.reordered) tally.add('order', 'members in dpkg order (debian-binary, control, data)');
  if (layout.tables) tally.add('layout', 'ar symbol/long-name tables removed (dpkg-deb writes none)');
  for (const [e, replaced] of parts) {
    const h = e.header;
    const mtime = canonicalTime(ctx.options, h.mtime !== undefined && !Number.isNaN(h.mtime) ? h.mtime : undefined, 0);
    const size = replaced ? replaced.size : e.dataSize;
    if (h.mtime !== mtime) tally.add('timestamp', `ar member mtime -> ${mtime}`, `ar member mtime ${showField(h, 'mtime')} -> ${mtime}`);
    if (h.uid !== 0 || h.gid !== 0) tally.add('owner', 'ar member uid/gid -> 0');
    if (h.mode !== AR_MODE) tally.add('mode', 'ar member mode -> 100644', `ar member mode ${showField(h, 'mode')} -> 100644`);
    if (h.rawName.trimEnd() !== e.name) tally.add('header', 'ar member names as dpkg writes them (no "/")');
    await output.write(encodeHeader({ name: e.name, mtime, uid: 0, gid: 0, mode: AR_MODE, size }));
    if (replaced) {
      await copyRange(replaced, 0, replaced.size, output);
      replaced.release?.();
    } else await copyRange(input, e.dataOffset, e.dataSize, output);
    if (size % 2 === 1) await output.write(Uint8Array.of(0x0a));
  }
  return { status: 'normalized', changes: [...tally.changes(), ...mergeNested(nested)] };
}

/** For `detnorm diff`: the three members, the tars decompressed. */
async function* members(input: Source, ctx: Context): AsyncIterable<MemberInfo> {
  const layout = await layoutOf(input, ctx);
  if ('untouched' in layout) return;
  for (const e of [layout.binary, layout.control, layout.data]) {
    const h = e.header;
    const meta: Record<string, string | number> = { mtime: h.mtime ?? '', uid: h.uid ?? '', gid: h.gid ?? '', mode: h.mode?.toString(8) ?? '' };
    let data: Source = new SliceSource(input, e.dataOffset, e.dataSize);
    let name = e.name;
    const ext = e.name.replace(/^(control|data)\.tar/, '');
    const codec = e === layout.binary ? undefined : CODECS[ext];
    if (codec) {
      const decoded = await decodeToSpill(codec, data, ctx);
      if (!('untouched' in decoded)) {
        const { parsed } = decoded;
        data = decoded.payload;
        name = e.name.slice(0, e.name.length - ext.length);
        meta.compression = codec.name;
        Object.assign(meta, parsed.meta);
      }
    }
    yield { name, data, type: 'file', meta };
  }
}

/** What `detnorm diff` compares of a package's members: the ar header fields, and the compressor. */
const DEB_FIELDS: readonly FieldSpec[] = [
  ...AR_FIELDS,
  {
    kind: 'compression',
    label: 'compressor',
    value: (m) => m.meta.compression ?? 'none',
    cause: () => 'dpkg-deb -Z chooses the compressor (its default is xz)',
  },
];

/**
 * For `detnorm diff`: the ar header fields of debian-binary, control.tar and data.tar, their
 * compressors, and the tars decompressed as member pairs (the core then says which tar member
 * and field differ).
 */
async function compare(a: Source, b: Source, ctx: Context): Promise<Comparison> {
  const list = async (s: Source) => {
    const out: MemberInfo[] = [];
    for await (const m of members(s, ctx)) out.push(m);
    if (!out.length) throw new FormatError('a Debian package left as it is (signed, extra members or another format version)');
    return out;
  };
  return compareMemberLists(await list(a), await list(b), { fields: DEB_FIELDS, order: false });
}

export const debHandler: Handler = {
  ...debDetection,
  normalize,
  members,
  compare,
};
