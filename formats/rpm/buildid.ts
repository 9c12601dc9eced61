// Build-ids of a main package and its -debuginfo sibling (docs/DESIGN.md, "rpm build-ids").
// rpmbuild's find-debuginfo (debugedit) rewrites the build paths in a binary's DWARF and then
// recomputes its build-id over the rewritten file; with build directories of different lengths
// the bytes it hashes differ, so the id differs, and the id is everywhere: the binary's
// NT_GNU_BUILD_ID note, the .debug file's (the same id), the .gnu_debuglink CRC of the binary
// (the CRC covers the .debug file), the /usr/lib/.build-id/XX/YYYY and
// /usr/lib/debug/.build-id/XX/YYYY(.debug) links (names, one link target), the
// `debuginfo(build-id) = ID` Provides, file(1)'s "BuildID[sha1]=ID" in CLASSDICT, the file
// order and every digest. After detnorm (--map-path) the pair's bytes are otherwise equal.
//
// The rule, a pure function of both packages' bytes (so the order of work, -j and whether the
// sibling on disk was already rewritten make no difference):
// 1. The sibling of NAME-V-R.A.rpm is NAME-debuginfo-V-R.A.rpm in the same directory, and the
//    reverse. No sibling (or not readable, or not a package of that name): nothing changes,
//    with a notice.
// 2. Pairs: each ELF of the main payload with a build-id note, a .gnu_debuglink named L and a
//    /usr/lib/.build-id link for its id, with /usr/lib/debug/DIR/L of the -debuginfo payload
//    (DIR the binary's directory: GDB's global debug directory rule), both normalized as the
//    dispatcher normalizes them (idempotent: the input or the output on disk give the same),
//    the pairing test the .gnu_debuglink rule's (same loaded sections) with both ids zeroed.
// 3. NEW id = the first SIZE bytes of SHA-256 over a fixed label and both normalized files
//    with the id bytes (and the binary's debuglink CRC) zeroed: it does not depend on the old
//    ids, so the second run finds NEW already there (no change).
// 4. Each package renames by its own file's current id: notes, the CRC (CRC-32 of the
//    rewritten .debug file), .build-id link names and targets, Provides, CLASSDICT, files
//    re-sorted as rpmbuild sorts them (full path, bytewise) with every per-file tag permuted
//    together, DIRNAMES/CLASSDICT in first-use order, the cpio archive in header order; then
//    the package goes through the usual normalization (digests, sizes, signature header).
// Ambiguous or odd (an ELF with no debug file, a debug file paired twice, a .build-id
// directory shared by ids that go to different directories, a renamed regular file): nothing
// changes, with a notice.
import { createHash } from 'node:crypto';
import { BufferSource, SliceSource, readAll } from '../../src/io.js';
import { FormatError, type Context, type Source } from '../../src/types.js';
import { byteCompare } from '../../src/walk.js';
import { S_IFMT, S_IFREG, TRAILER, decodeCpio, padTo, type CpioHeader } from '../cpio/header.js';
import { crc32 } from '../crc32.js';
import { parseDebugLink } from '../debuglink.js';
import { elfPairCheck } from '../elf/debuglink.js';
import { findBuildId, isElf, parseElf, type Elf } from '../elf/elf.js';
import { TAG, getEntry, intEntry, ints, stringEntry, strings, type Header, type TagEntry } from './header.js';
import { encodeRpmCpio, memberName } from './payload.js';

const HS = 110;
const LABEL = Buffer.from('detnorm rpm build-id pair v1\0', 'latin1');

export const RTAG = {
  ARCH: 1022,
  VERSION: 1001,
  RELEASE: 1002,
  PROVIDENAME: 1047,
  PROVIDEFLAGS: 1112,
  PROVIDEVERSION: 1113,
  CLASSDICT: 1142,
  FILECLASS: 1141,
  FILELINKTOS: 1036,
  FILEDEPENDSX: 1143,
  FILEDEPENDSN: 1144,
  DEPENDSDICT: 1145,
} as const;

/** Tags with one value per file (rpmtag.h), permuted together when the file order changes. */
export const PER_FILE_TAGS: ReadonlySet<number> = new Set([
  1027, 1028, 1029, 1030, 1031, 1032, 1033, 1034, 1035, 1036, 1037, 1039, 1040, 1045, 1095, 1096, 1097, 1116, 1117, 1140, 1141, 1143, 1144, 1147, 5008, 5010, 5045, 5090,
]);

// ---- pure ELF pieces ----

interface IdFile {
  readonly elf: Elf;
  readonly idAt: number;
  readonly idSize: number;
  /** File offset of the .gnu_debuglink CRC (binaries only). */
  readonly crcAt?: number;
}

function idFile(bytes: Uint8Array, withLink: boolean): IdFile | string {
  let elf: Elf;
  try {
    elf = parseElf(bytes);
  } catch (e) {
    if (e instanceof FormatError || e instanceof RangeError) return `not an ELF file (${e.message})`;
    throw e;
  }
  const note = findBuildId(elf);
  if (!note || note.size < 8 || note.size > 32) return 'no GNU build-id note of 8 to 32 bytes';
  if (!withLink) return { elf, idAt: note.fileOffset, idSize: note.size };
  const s = elf.sections.find((x) => x.name === '.gnu_debuglink');
  const link = s && parseDebugLink(bytes.subarray(s.offset, s.offset + s.size), elf.header.le);
  if (!s || !link) return 'no .gnu_debuglink';
  return { elf, idAt: note.fileOffset, idSize: note.size, crcAt: s.offset + link.crcOffset };
}

/** The debuglink name of an ELF binary with a build-id, or undefined. */
export function debugLinkName(bytes: Uint8Array): string | undefined {
  if (!isElf(bytes)) return undefined;
  const f = idFile(bytes, true);
  if (typeof f === 'string') return undefined;
  const s = f.elf.sections.find((x) => x.name === '.gnu_debuglink')!;
  return parseDebugLink(bytes.subarray(s.offset, s.offset + s.size), f.elf.header.le)?.name;
}

export function buildIdHex(bytes: Uint8Array): string | undefined {
  if (!isElf(bytes)) return undefined;
  const f = idFile(bytes, false);
  return typeof f === 'string' ? undefined : Buffer.from(bytes.subarray(f.idAt, f.idAt + f.idSize)).toString('hex');
}

function zeroed(bytes: Uint8Array, f: IdFile): Uint8Array {
  const z = Uint8Array.from(bytes);
  z.fill(0, f.idAt, f.idAt + f.idSize);
  if (f.crcAt !== undefined) z.fill(0, f.crcAt, f.crcAt + 4);
  return z;
}

export interface PairIds {
  /** The binary's and the debug file's current ids (hex). */
  readonly exeId: string;
  readonly dbgId: string;
  /** The new id (hex), the same length. */
  readonly id: string;
  /** Both files with the new id (the binary with the CRC of the new debug file). */
  readonly exe: Uint8Array;
  readonly dbg: Uint8Array;
}

/**
 * A binary and its debug file (both as normalized): the new id and both rewritten files, or
 * why they are not a pair. Pure.
 */
export function pairBuildId(exe: Uint8Array, dbg: Uint8Array): PairIds | string {
  const fx = idFile(exe, true);
  if (typeof fx === 'string') return `binary: ${fx}`;
  const fd = idFile(dbg, false);
  if (typeof fd === 'string') return `debug file: ${fd}`;
  if (fx.idSize !== fd.idSize) return 'the build-ids differ in length';
  const [zx, zd] = [zeroed(exe, fx), zeroed(dbg, fd)];
  // The .gnu_debuglink pairing test (same machine, same loaded sections and contents), ids zeroed.
  const why = elfPairCheck(parseElf(zx))(zd);
  if (why !== undefined) return why;
  const h = createHash('sha256');
  const len = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  h.update(LABEL).update(len(zx.length)).update(zx).update(len(zd.length)).update(zd);
  const id = h.digest().subarray(0, fx.idSize);
  const newDbg = Uint8Array.from(dbg);
  newDbg.set(id, fd.idAt);
  const newExe = Uint8Array.from(exe);
  newExe.set(id, fx.idAt);
  new DataView(newExe.buffer).setUint32(fx.crcAt!, crc32(newDbg) >>> 0, fx.elf.header.le);
  const hex = (b: Uint8Array, f: IdFile) => Buffer.from(b.subarray(f.idAt, f.idAt + f.idSize)).toString('hex');
  return { exeId: hex(exe, fx), dbgId: hex(dbg, fd), id: Buffer.from(id).toString('hex'), exe: newExe, dbg: newDbg };
}

// ---- pure header pieces ----

/** A path's .build-id link id ("XX" + "YYYY"), for ".../.build-id/XX/YYYY" or "....debug". */
export function linkId(path: string, root: string): string | undefined {
  if (!path.startsWith(root)) return undefined;
  const m = /^([0-9a-f]{2})\/([0-9a-f]{14,62})(\.debug)?$/.exec(path.slice(root.length));
  return m ? m[1]! + m[2]! : undefined;
}

/**
 * New paths for a package's files: under `root` ("./usr/lib/.build-id/" or
 * "./usr/lib/debug/.build-id/"), each XX/YYYY(.debug) whose id is in `ids` takes the new id,
 * and each XX directory the new XX of the ids under it. Throws a string when that is ambiguous.
 */
export function renamePaths(paths: readonly string[], modes: readonly number[], root: string, ids: ReadonlyMap<string, string>): string[] {
  const dirMap = new Map<string, string>();
  paths.forEach((p, i) => {
    const id = linkId(p, root);
    if (!id) return;
    const nid = ids.get(id);
    if (!nid) return;
    if ((modes[i]! & S_IFMT) === S_IFREG) throw `${p} is a regular file`;
    const [o, n] = [id.slice(0, 2), nid.slice(0, 2)];
    const had = dirMap.get(o);
    if (had !== undefined && had !== n) throw `${root}${o} holds ids that go to different directories`;
    dirMap.set(o, n);
  });
  // An old directory holding anything not renamed (another id, rpm's "YYYY.1" for a duplicate
  // id) must stay.
  paths.forEach((p) => {
    const m = /^([0-9a-f]{2})\/(.+)$/.exec(p.startsWith(root) ? p.slice(root.length) : '');
    if (!m || !dirMap.has(m[1]!) || dirMap.get(m[1]!) === m[1]) return;
    const id = linkId(p, root);
    if (!id || !ids.has(id)) throw `${root.slice(2)}${m[1]} also holds ${m[2]}`;
  });
  const out = paths.map((p) => {
    const id = linkId(p, root);
    if (id && ids.has(id)) return root + ids.get(id)!.slice(0, 2) + '/' + ids.get(id)!.slice(2) + (p.endsWith('.debug') ? '.debug' : '');
    const rest = p.startsWith(root) ? p.slice(root.length) : undefined;
    if (rest !== undefined && /^[0-9a-f]{2}$/.test(rest) && dirMap.has(rest)) return root + dirMap.get(rest)!;
    return p;
  });
  if (new Set(out).size !== out.length) throw 'two files would have the same path';
  return out;
}

/** Link targets and free text: every ".build-id/XX/YYYY" and "BuildID[...]=ID" of a renamed id. */
export function renameInText(text: string, ids: ReadonlyMap<string, string>): string {
  let t = text;
  for (const [o, n] of ids) {
    t = t.split(`.build-id/${o.slice(0, 2)}/${o.slice(2)}`).join(`.build-id/${n.slice(0, 2)}/${n.slice(2)}`);
    t = t.replace(new RegExp(`(BuildID\\[[^\\]]*\\]=)${o}(?![0-9a-f])`, 'g'), `$1${n}`);
  }
  return t;
}


function permuteEntry(e: TagEntry, perm: readonly number[]): TagEntry {
  if (e.type === 6 || e.type === 8 || e.type === 9) {
    const v = strings(e);
    return stringEntry(e.tag, e.type, perm.map((i) => v[i]!));
  }
  const v = ints(e);
  return intEntry(e.tag, e.type, perm.map((i) => v[i]!));
}

export interface HeaderRewrite {
  readonly entries: TagEntry[];
  /** New index -> old index. */
  readonly perm: number[];
  /** New payload names by old index. */
  readonly newPaths: string[];
}

/**
 * The header with renamed files (payload names "./x" in `paths`, new in `newPaths`), re-sorted
 * as rpmbuild sorts them, every per-file tag permuted; link targets, Provides and CLASSDICT
 * renamed. Pure.
 */
export function rewriteHeader(entries: readonly TagEntry[], paths: readonly string[], newPaths: readonly string[], ids: ReadonlyMap<string, string>): HeaderRewrite {
  const n = paths.length;
  const perm = [...Array(n).keys()].sort((a, b) => byteCompare(newPaths[a]!, newPaths[b]!) || a - b);
  const out: TagEntry[] = [];
  const get = (tag: number) => entries.find((e) => e.tag === tag);
  for (const e of entries) {
    let x = e;
    if (PER_FILE_TAGS.has(e.tag) && e.count === n && e.tag !== TAG.BASENAMES && e.tag !== TAG.DIRINDEXES && e.tag !== RTAG.FILECLASS) x = permuteEntry(e, perm);
    if (x.tag === RTAG.FILELINKTOS) x = stringEntry(x.tag, x.type, strings(x).map((s) => renameInText(s, ids)));
    if (x.tag === TAG.OLDFILENAMES) x = stringEntry(x.tag, x.type, perm.map((i) => newPaths[i]!.replace(/^\./, '')));
    out.push(x);
  }
  // BASENAMES / DIRNAMES / DIRINDEXES: directories in first-use order of the sorted files.
  const base = get(TAG.BASENAMES);
  if (base) {
    const dirs: string[] = [];
    const dirIx = new Map<string, number>();
    const bases: string[] = [];
    const idx: number[] = [];
    for (const i of perm) {
      const p = newPaths[i]!.replace(/^\./, '');
      const cut = p.lastIndexOf('/') + 1;
      const [d, b] = [p.slice(0, cut), p.slice(cut)];
      if (!dirIx.has(d)) {
        dirIx.set(d, dirs.length);
        dirs.push(d);
      }
      idx.push(dirIx.get(d)!);
      bases.push(b);
    }
    set(out, stringEntry(TAG.BASENAMES, base.type, bases));
    set(out, stringEntry(TAG.DIRNAMES, get(TAG.DIRNAMES)!.type, dirs));
    set(out, intEntry(TAG.DIRINDEXES, get(TAG.DIRINDEXES)!.type, idx));
  }
  // CLASSDICT: renamed, in first-use order over the sorted files (rpmfc's string pool).
  const dict = get(RTAG.CLASSDICT);
  const cls = get(RTAG.FILECLASS);
  if (dict && cls && cls.count === n) {
    const words = strings(dict).map((s) => renameInText(s, ids));
    const old = ints(cls);
    const order: number[] = [];
    const at = new Map<number, number>();
    const used = perm.map((i) => {
      const c = old[i]!;
      if (!at.has(c)) {
        at.set(c, order.length);
        order.push(c);
      }
      return at.get(c)!;
    });
    // Dictionary words no file uses keep their place after the used ones.
    words.forEach((_, c) => {
      if (!at.has(c)) {
        at.set(c, order.length);
        order.push(c);
      }
    });
    const firstUse = perm.length > 0 && old.every((c) => c < words.length);
    if (firstUse) {
      set(out, stringEntry(dict.tag, dict.type, order.map((c) => words[c]!)));
      set(out, intEntry(cls.tag, cls.type, used));
    } else set(out, stringEntry(dict.tag, dict.type, words));
  } else if (dict) set(out, stringEntry(dict.tag, dict.type, strings(dict).map((s) => renameInText(s, ids))));
  const provMap = new Map<number, number>();
  // Provides: debuginfo(build-id) = ID, re-sorted as rpmds sorts them (name, version, flags).
  const pn = get(RTAG.PROVIDENAME);
  const pv = get(RTAG.PROVIDEVERSION);
  const pf = get(RTAG.PROVIDEFLAGS);
  if (pn && pv && pf && pn.count === pv.count && pf.count === pn.count) {
    const names = strings(pn);
    const vers = strings(pv).map((v, i) => (names[i] === 'debuginfo(build-id)' && ids.has(v) ? ids.get(v)! : v));
    const flags = ints(pf);
    const ix = [...names.keys()];
    const byId = ix.filter((i) => names[i] === 'debuginfo(build-id)');
    const sorted = [...byId].sort((a, b) => byteCompare(vers[a]!, vers[b]!) || flags[a]! - flags[b]!);
    byId.forEach((slot, k) => (ix[slot] = sorted[k]!));
    set(out, stringEntry(pn.tag, pn.type, ix.map((i) => names[i]!)));
    set(out, stringEntry(pv.tag, pv.type, ix.map((i) => vers[i]!)));
    set(out, intEntry(pf.tag, pf.type, ix.map((i) => flags[i]!)));
    ix.forEach((old, slot) => provMap.set(old, slot));
  }
  // DEPENDSDICT (rpmfc): each file's dependencies in file order, ((type << 24) | index) into
  // its dependency list; FILEDEPENDSX/N a file's slice of it (X 0 for a file without any).
  const dd = get(RTAG.DEPENDSDICT);
  const fdx = get(RTAG.FILEDEPENDSX);
  const fdn = get(RTAG.FILEDEPENDSN);
  if (dd && fdx && fdn && fdx.count === n && fdn.count === n) {
    const dict = ints(dd);
    const [xs, ns] = [ints(fdx), ints(fdn)];
    const nd: number[] = [];
    const nx: number[] = [];
    const nn: number[] = [];
    for (const i of perm) {
      const [x, k] = [xs[i]!, ns[i]!];
      nx.push(k ? nd.length : 0);
      nn.push(k);
      for (let j = x; j < x + k && j < dict.length; j++) {
        const v = dict[j]!;
        const t = v >>> 24;
        nd.push(t === 0x50 && provMap.has(v & 0xffffff) ? ((t << 24) | provMap.get(v & 0xffffff)!) >>> 0 : v);
      }
    }
    set(out, intEntry(dd.tag, dd.type, nd));
    set(out, intEntry(fdx.tag, fdx.type, nx));
    set(out, intEntry(fdn.tag, fdn.type, nn));
  }
  return { entries: out, perm, newPaths: [...newPaths] };
}

function set(entries: TagEntry[], e: TagEntry): void {
  const i = entries.findIndex((x) => x.tag === e.tag);
  if (i < 0) entries.push(e);
  else entries[i] = e;
}

// ---- the payload ----

interface CpioMember {
  readonly h: CpioHeader;
  readonly name: string;
  readonly data: Source;
}

export async function readCpio(payload: Source, ctx: Context): Promise<{ members: CpioMember[]; trailer: Uint8Array }> {
  const members: CpioMember[] = [];
  let pos = 0;
  for (;;) {
    ctx.checkDeadline?.();
    if (pos + HS > payload.size) throw new FormatError(`payload: truncated cpio header at offset ${pos}`);
    const hb = await payload.read(pos, HS);
    if (Buffer.from(hb.subarray(0, 6)).toString('latin1') !== '070701') throw new FormatError(`payload: bad cpio magic at offset ${pos}`);
    const h = decodeCpio(hb, 'newc', pos);
    if (h.namesize < 1 || h.namesize > 1 << 16 || pos + HS + h.namesize > payload.size) throw new FormatError(`payload: bad cpio name size at offset ${pos}`);
    const name = Buffer.from((await payload.read(pos + HS, h.namesize)).subarray(0, h.namesize - 1)).toString('latin1');
    const dataOffset = padTo(pos + HS + h.namesize, 4);
    if (dataOffset + h.filesize > payload.size) throw new FormatError(`payload: truncated data of "${name.slice(0, 200)}"`);
    if (name === TRAILER) return { members, trailer: await payload.read(pos, payload.size - pos) };
    members.push({ h, name, data: new SliceSource(payload, dataOffset, h.filesize) });
    pos = padTo(dataOffset + h.filesize, 4);
  }
}

// ---- the plan for one package ----

export type Role = 'main' | 'debuginfo';

export interface Plan {
  /** old id -> new id, for this package's own files. */
  readonly ids: Map<string, string>;
  /** Payload name -> new bytes (normalized, with the new id and CRC), spilled. */
  readonly data: Map<string, Source>;
}

const MAIN_ROOT = './usr/lib/.build-id/';
const DEBUG_ROOT = './usr/lib/debug/.build-id/';
export const rootOf = (r: Role) => (r === 'main' ? MAIN_ROOT : DEBUG_ROOT);

/** The sibling's file name, from this package's NAME, VERSION, RELEASE and ARCH. */
export function siblingName(main: Header): { role: Role; name: string } | undefined {
  const s = (tag: number) => {
    const e = getEntry(main, tag);
    return e ? strings(e)[0] : undefined;
  };
  const [name, v, r, a] = [s(TAG.NAME), s(RTAG.VERSION), s(RTAG.RELEASE), s(RTAG.ARCH)];
  if (!name || !v || !r || !a) return undefined;
  const tail = `-${v}-${r}.${a}.rpm`;
  if (name.endsWith('-debuginfo')) return { role: 'debuginfo', name: name.slice(0, -'-debuginfo'.length) + tail };
  return { role: 'main', name: `${name}-debuginfo${tail}` };
}

async function normalized(name: string, data: Source, ctx: Context): Promise<Uint8Array> {
  const r = await ctx.normalizeMember(Buffer.from(memberName(name), 'latin1').toString('utf8'), data);
  if (!r.changed) return readAll(data);
  const b = await readAll(r.output);
  r.output.release?.();
  return b;
}

function isElfMember(m: CpioMember): Promise<boolean> {
  if ((m.h.mode & S_IFMT) !== S_IFREG || m.h.filesize < 64) return Promise.resolve(false);
  return m.data.read(0, 16).then(isElf);
}

async function keep(bytes: Uint8Array, ctx: Context): Promise<Source> {
  const sink = ctx.spill();
  await sink.write(bytes);
  return sink.close();
}

/**
 * The plan for this package (role), given both payloads' members, or why nothing changes
 * (a string), or undefined when there is nothing to do. One pair in memory at a time; the new
 * bytes of this package's files go to spills.
 */
export async function planBuildIds(role: Role, own: readonly CpioMember[], sib: readonly CpioMember[], ctx: Context): Promise<Plan | string | undefined> {
  const [mainM, dbgM] = role === 'main' ? [own, sib] : [sib, own];
  const mainLinks = new Set(mainM.map((m) => linkId(m.name, MAIN_ROOT)).filter((x): x is string => !!x));
  const dbgLinks = new Set(dbgM.map((m) => linkId(m.name, DEBUG_ROOT)).filter((x): x is string => !!x));
  const dbgByName = new Map(dbgM.map((m) => [m.name, m]));
  const ids = new Map<string, string>();
  const data = new Map<string, Source>();
  const news = new Set<string>();
  const usedDbg = new Set<string>();
  let pairs = 0;
  for (const m of mainM) {
    if (m.name.startsWith('./usr/lib/debug/') || !(await isElfMember(m))) continue;
    const exe = await normalized(m.name, m.data, ctx);
    const id = buildIdHex(exe);
    const link = debugLinkName(exe);
    if (!id || !link || !mainLinks.has(id)) continue;
    const dbgName = `./usr/lib/debug/${m.name.slice(2, m.name.lastIndexOf('/') + 1)}${link}`;
    const dm = dbgByName.get(dbgName);
    if (!dm || !(await isElfMember(dm))) return `${memberName(m.name)}: its debug file ${memberName(dbgName)} is not in the -debuginfo package`;
    if (usedDbg.has(dbgName)) return `${memberName(dbgName)} is the debug file of two binaries`;
    usedDbg.add(dbgName);
    const dbg = await normalized(dm.name, dm.data, ctx);
    const r = pairBuildId(exe, dbg);
    if (typeof r === 'string') return `${memberName(m.name)} and ${memberName(dbgName)} are not a pair: ${r}`;
    if (news.has(r.id)) return `two pairs give the same build-id ${r.id}`;
    news.add(r.id);
    pairs++;
    const [oldId, file, bytes, cur] = role === 'main' ? [r.exeId, m.name, r.exe, exe] : [r.dbgId, dbgName, r.dbg, dbg];
    if (role === 'debuginfo' && !dbgLinks.has(oldId)) return `${memberName(dbgName)}: no ${DEBUG_ROOT.slice(2)} link for its build-id ${oldId}`;
    if (ids.has(oldId) && ids.get(oldId) !== r.id) return `build-id ${oldId} twice`;
    if (oldId !== r.id) ids.set(oldId, r.id);
    if (!Buffer.from(cur).equals(bytes)) data.set(file, await keep(bytes, ctx));
  }
  if (!pairs || (!ids.size && !data.size)) return undefined;
  return { ids, data };
}

/** The payload in the new order, renamed, with the plan's data; the trailer as it was. */
export async function writeCpio(members: readonly CpioMember[], trailer: Uint8Array, perm: readonly number[], newPaths: readonly string[], index: ReadonlyMap<string, number>, plan: Plan, ctx: Context): Promise<Source> {
  const sink = ctx.spill();
  let pos = 0;
  const put = async (b: Uint8Array) => {
    await sink.write(b);
    pos += b.length;
  };
  const pad = async () => {
    const k = padTo(pos, 4) - pos;
    if (k) await put(new Uint8Array(k));
  };
  const byIndex = new Map<number, CpioMember>();
  for (const m of members) {
    const fx = index.get(m.name);
    if (fx === undefined) throw new FormatError(`payload: "${m.name.slice(0, 200)}" is not in the header's file list`);
    byIndex.set(fx, m);
  }
  for (const fx of perm) {
    const m = byIndex.get(fx);
    if (!m) continue; // a ghost file: not in the payload
    const name = newPaths[fx]!;
    let data: Source = m.data;
    const planned = plan.data.get(m.name);
    if (planned) data = planned;
    else if ((m.h.mode & S_IFMT) === 0o120000 && m.data.size <= 1 << 16) {
      data = new BufferSource(Buffer.from(renameInText(Buffer.from(await readAll(m.data)).toString('latin1'), plan.ids), 'latin1'));
    }
    const nb = Buffer.from(name + '\0', 'latin1');
    await put(encodeRpmCpio({ ...m.h, namesize: nb.length, filesize: data.size }));
    await put(nb);
    await pad();
    for (let at = 0; at < data.size; at += 1 << 20) await put(await data.read(at, Math.min(1 << 20, data.size - at)));
    await pad();
  }
  await put(trailer);
  return sink.close();
}

