// Where a PE image keeps its times and its debug identity (Microsoft "PE Format": "The .edata
// Section", "The .rsrc Section", "The .debug Section", "The Load Configuration Structure",
// "Import Directory Table", "Delay-Load Directory Table"; CodeView RSDS records as written
// by link.exe, lld-link and GNU ld --build-id). Finds the fields; changes nothing.
import { latin1, need, u16, u32 } from './coff.js';
import { DIR_BOUND_IMPORT, DIR_DEBUG, DIR_DELAY_IMPORT, DIR_EXPORT, DIR_IMPORT, DIR_LOAD_CONFIG, DIR_RESOURCE, locate, rvaToOffset, sectionAt, type PeImage } from './image.js';

export const DEBUG_TYPE_CODEVIEW = 2;
export const DEBUG_TYPE_REPRO = 16;
const DEBUG_ENTRY_SIZE = 28;

export interface StampField {
  /** File offset of the 4-byte field. */
  readonly at: number;
  readonly value: number;
  /** "export directory", "resource directory at 0x48", ... */
  readonly what: string;
}

export interface CodeView {
  /** File offset and size of the whole record (the debug entry's PointerToRawData, SizeOfData). */
  readonly at: number;
  readonly size: number;
  readonly signature: string;
  /** RSDS: the PDB path (bytes up to the NUL) and the room it may use (SizeOfData - 24, the NUL included). */
  readonly path?: Uint8Array;
  readonly pathRoom?: number;
}

export interface ImageFields {
  /** The COFF header's TimeDateStamp. */
  readonly coffStamp: StampField;
  /** Every debug directory entry's TimeDateStamp. */
  readonly debugStamps: readonly StampField[];
  /** Export directory, resource directory tables and load configuration stamps. */
  readonly otherStamps: readonly StampField[];
  readonly codeViews: readonly CodeView[];
  /** Import and delay-import descriptors bound to a DLL's stamp (bind.exe), and the bound import table. */
  readonly bound: readonly string[];
  /** A REPRO debug entry with data (MSVC /Brepro stores a hash there). */
  readonly reproData: boolean;
}

/** The fields of an image, each checked to lie inside the file. */
export function findFields(img: PeImage): ImageFields {
  const b = img.bytes;
  const coffStamp = { at: img.coff.header.at + 4, value: img.coff.header.timeDateStamp, what: 'COFF header' };
  const otherStamps: StampField[] = [];
  const stamp = (at: number, what: string) => otherStamps.push({ at, value: u32(b, at), what });

  const exp = img.dirs[DIR_EXPORT]!;
  // (A directory in a section without data in this file, as in an objcopy --only-keep-debug
  // file, has nothing to normalize.)
  const expAt = exp.size > 0 ? locate(img, exp.rva, 40, 'export directory') : undefined;
  if (expAt !== undefined) stamp(expAt + 4, 'export directory');

  const rsrc = img.dirs[DIR_RESOURCE]!;
  const rsrcAt = rsrc.size > 0 ? locate(img, rsrc.rva, 16, 'resource directory') : undefined;
  if (rsrcAt !== undefined) for (const at of resourceTables(img, rsrc.rva, rsrc.size)) stamp(at + 4, `resource directory table at 0x${(at - rsrcAt).toString(16)}`);

  const lc = img.dirs[DIR_LOAD_CONFIG]!;
  const lcAt = lc.size >= 8 ? locate(img, lc.rva, 8, 'load configuration') : undefined;
  if (lcAt !== undefined && u32(b, lcAt) >= 8) stamp(lcAt + 4, 'load configuration');

  const debugStamps: StampField[] = [];
  const codeViews: CodeView[] = [];
  let reproData = false;
  const dbg = img.dirs[DIR_DEBUG]!;
  const base = dbg.size > 0 ? locate(img, dbg.rva, dbg.size, 'debug directory') : undefined;
  if (base !== undefined) {
    need(dbg.size % DEBUG_ENTRY_SIZE === 0, `debug directory size ${dbg.size} is not a multiple of ${DEBUG_ENTRY_SIZE}`);
    for (let e = base; e < base + dbg.size; e += DEBUG_ENTRY_SIZE) {
      const type = u32(b, e + 12);
      const size = u32(b, e + 16);
      const rva = u32(b, e + 20);
      const ptr = u32(b, e + 24);
      debugStamps.push({ at: e + 4, value: u32(b, e + 4), what: `debug directory entry (type ${type})` });
      if (type === DEBUG_TYPE_REPRO && size > 0) reproData = true;
      if (type !== DEBUG_TYPE_CODEVIEW || size === 0) continue;
      need(ptr + size <= b.length && size >= 4, `CodeView record (${size} bytes at ${ptr}) runs past the end of the file`);
      if (rva !== 0) need(rvaToOffset(img, rva, size, 'CodeView record') === ptr, `CodeView record: address 0x${rva.toString(16)} and file offset ${ptr} disagree`);
      const signature = latin1(b.subarray(ptr, ptr + 4));
      if (signature === 'RSDS' && size >= 24) {
        const room = size - 24;
        const text = b.subarray(ptr + 24, ptr + size);
        const nul = text.indexOf(0);
        codeViews.push({ at: ptr, size, signature, path: text.subarray(0, nul < 0 ? room : nul), pathRoom: room });
      } else codeViews.push({ at: ptr, size, signature });
    }
  }

  // The walks below end at an all-zero entry: the bytes they read must be none this handler
  // rewrites (a stamp, a CodeView record), or the next run would read a table of another length.
  const rewritten: Array<readonly [number, number]> = [
    ...[coffStamp, ...otherStamps, ...debugStamps].map((f) => [f.at, f.at + 4] as const),
    ...codeViews.map((c) => [c.at, c.at + c.size] as const),
  ];
  const bound: string[] = [];
  const imp = img.dirs[DIR_IMPORT]!;
  if (imp.size > 0) descriptors(img, imp.rva, 20, 4, 'import descriptor', bound, rewritten);
  const delay = img.dirs[DIR_DELAY_IMPORT]!;
  if (delay.size > 0) descriptors(img, delay.rva, 32, 28, 'delay-import descriptor', bound, rewritten);
  if (img.dirs[DIR_BOUND_IMPORT]!.size > 0) bound.push('bound import table');
  return { coffStamp, debugStamps, otherStamps, codeViews, bound, reproData };
}

/** Descriptors up to the all-zero one; those with a non-zero stamp are bound. */
function descriptors(img: PeImage, rva: number, size: number, stampAt: number, what: string, bound: string[], rewritten: ReadonlyArray<readonly [number, number]>): void {
  const b = img.bytes;
  if (locate(img, rva, size, what) === undefined) return;
  // The table ends at its all-zero entry inside the section it starts in: a walk that would
  // go on into another section (a debug section the DWARF rewrite lays out again, say) is
  // malformed, or the next run would read other bytes there.
  const home = sectionAt(img, rva, size);
  for (let i = 0; ; i++) {
    const here = sectionAt(img, rva + i * size, size);
    need(here === home, `${what} table at RVA 0x${rva.toString(16)} has no all-zero end inside its section`);
    const at = rvaToOffset(img, rva + i * size, size, what);
    need(!rewritten.some(([from, to]) => at < to && from < at + size), `${what} ${i} overlaps a stamp or CodeView record this handler rewrites`);
    if (b.subarray(at, at + size).every((x) => x === 0)) return;
    const t = u32(b, at + stampAt);
    if (t !== 0) bound.push(`${what} ${i} (TimeDateStamp 0x${t.toString(16)})`);
  }
}

/**
 * File offsets of every directory table of the resource tree (Type, Name and Language levels
 * and any deeper ones), each visited once. In a well-formed tree every table and entry has
 * bytes of its own, so more entries than the directory's size can hold, or a table reached
 * twice, make it malformed: the walk is bounded by the input.
 */
function resourceTables(img: PeImage, rva: number, size: number): number[] {
  const b = img.bytes;
  const out: number[] = [];
  const seen = new Set<number>();
  const queue: number[] = [0];
  let entriesSeen = 0;
  for (let q = 0; q < queue.length; q++) {
    const off = queue[q]!;
    need(!seen.has(off), `resource directory table at 0x${off.toString(16)} is reached twice`);
    seen.add(off);
    const at = rvaToOffset(img, rva + off, 16, 'resource directory table');
    const n = u16(b, at + 12) + u16(b, at + 14);
    entriesSeen += n;
    need(16 * seen.size + 8 * entriesSeen <= Math.max(size, 16), `resource directory tables and entries do not fit the ${size}-byte resource directory`);
    const entries = rvaToOffset(img, rva + off + 16, n * 8, 'resource directory entries');
    out.push(at);
    for (let i = 0; i < n; i++) {
      const target = u32(b, entries + i * 8 + 4);
      if (target & 0x80000000) queue.push(target & 0x7fffffff);
    }
  }
  return out;
}
