// Where each part of a rewritten PE image or COFF object goes in the output file.
//
// Images: loaded sections never move and never change size. When DWARF rewriting changes the
// size of a debug section, the debug sections (which GNU ld and lld put last, after every loaded
// section, in file and address order) are laid out again as both linkers do it: each one's raw
// data right after the previous one's, SizeOfRawData its size rounded up to FileAlignment, its
// address the previous one's end rounded up to SectionAlignment; then the symbol and string
// tables; the file ends as the input did (at the string table, or padded to FileAlignment).
// SizeOfImage and the symbol table pointer follow; SizeOfInitializedData too when the input's
// is the sum of the initialized-data sections' raw sizes (lld, link.exe; GNU ld counts only
// the sections BFD marks as data, debug sections not, and its value is kept).
//
// Objects: always GNU as's layout, whoever wrote the file: the section headers, then the raw
// data of every section in section order with no gaps, then (from a 4-byte boundary) the
// relocation tables in section order, the symbol table and the string table. Sections without
// data get PointerToRawData 0, those without relocations PointerToRelocations 0.
import { FormatError } from '../../src/types.js';
import { Image, type Piece } from '../elf/image.js';
import { Unsupported } from '../dwarf/container.js';
import { FILE_HEADER_SIZE, SECTION_HEADER_SIZE, SCN_CNT_INITIALIZED_DATA, hasRawData, putU32, relocTable, type Coff, type Section } from './coff.js';
import { OPT_SIZE_OF_IMAGE, OPT_SIZE_OF_INITIALIZED_DATA, sectionBytes, type PeImage } from './image.js';

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** Pieces of `bytes` with some ranges replaced by data of the same length. */
function splice(bytes: Uint8Array, replacements: ReadonlyArray<{ at: number; data: Uint8Array }>, start = 0, end = bytes.length): Piece[] {
  const sorted = [...replacements].sort((a, b) => a.at - b.at);
  const out: Piece[] = [];
  let pos = start;
  for (const r of sorted) {
    if (r.at < pos || r.at + r.data.length > end) throw new FormatError('internal: overlapping replacements');
    out.push({ at: pos, data: bytes.subarray(pos, r.at) }, { at: r.at, data: r.data });
    pos = r.at + r.data.length;
  }
  out.push({ at: pos, data: bytes.subarray(pos, end) });
  return out;
}

export interface ImageLayout {
  readonly image: Image;
  /** The debug sections moved or changed size. */
  readonly moved: boolean;
}

/**
 * The new image: `contents` are the new bytes of some sections (by section number), `symtab`
 * new bytes of the symbol table (same size). Sections that keep their size are replaced in place.
 */
export function layoutImage(img: PeImage, contents: ReadonlyMap<number, Uint8Array>, symtab: Uint8Array | undefined): ImageLayout {
  const { bytes, coff } = img;
  const secs = coff.sections;
  const resized = [...contents].filter(([n, d]) => d.length !== sectionBytes(img, secs[n - 1]!).length).map(([n]) => n);
  const symAt = coff.header.symtabOffset;
  if (resized.length === 0) {
    const reps = [...contents].map(([n, data]) => ({ at: secs[n - 1]!.rawPtr, data }));
    if (symtab) reps.push({ at: symAt, data: symtab });
    return { image: new Image(splice(bytes, reps), bytes.length), moved: false };
  }
  // The tail: the debug sections after every other section, in table, address and file order.
  let first = secs.length;
  while (first > 0 && secs[first - 1]!.name.startsWith('.debug_')) first--;
  for (const n of resized) {
    if (n - 1 < first) throw new Unsupported(`debug section ${secs[n - 1]!.name} is followed by section ${secs[n]!.name}, which cannot move: its size cannot change`);
  }
  const tail = secs.slice(first);
  const head = secs.slice(0, first);
  const tailStart = tail.find((s) => s.rawPtr !== 0)?.rawPtr;
  if (tailStart === undefined) throw new Unsupported('debug sections without file data');
  for (const s of head) {
    if (hasRawData(s) && s.rawPtr + s.rawSize > tailStart) throw new Unsupported(`section ${s.name}'s data lies after the debug sections`);
  }
  let rawEnd = tailStart;
  for (const s of tail) {
    if (!hasRawData(s)) throw new Unsupported(`debug section ${s.name} has no file data`);
    if (s.rawPtr !== rawEnd) throw new Unsupported(`debug section ${s.name} is not laid out right after the previous one (at ${s.rawPtr}, not ${rawEnd})`);
    rawEnd = s.rawPtr + s.rawSize;
  }
  const strEnd = symAt !== 0 ? coff.strtabAt + coff.strtabSize : rawEnd;
  if (symAt !== 0 && symAt !== rawEnd) throw new Unsupported(`the symbol table (at ${symAt}) does not follow the last section (ending at ${rawEnd})`);
  const FA = img.fileAlignment;
  const SA = img.sectionAlignment;
  let padEnd: boolean;
  if (bytes.length === strEnd) padEnd = false;
  else if (bytes.length === align(strEnd, FA)) padEnd = true;
  else throw new Unsupported(`${bytes.length - strEnd} bytes of data after the image (an overlay) would move`);

  const header = Uint8Array.from(bytes.subarray(0, img.headersEnd));
  // Sections before the tail keep their place; those with new contents (the same size) are replaced.
  const headReps = head.filter((s) => contents.has(s.number)).map((s) => ({ at: s.rawPtr, data: contents.get(s.number)! }));
  const pieces: Piece[] = [{ at: 0, data: header }, ...splice(bytes, headReps, img.headersEnd, tailStart)];
  let at = tailStart;
  let va = tail[0]!.virtualAddress;
  let initDelta = 0;
  let imageEnd = 0;
  for (const s of tail) {
    const data = contents.get(s.number) ?? sectionBytes(img, s);
    const rawSize = align(data.length, FA);
    pieces.push({ at, data });
    putU32(header, s.headerAt + 8, data.length);
    putU32(header, s.headerAt + 12, va);
    putU32(header, s.headerAt + 16, rawSize);
    putU32(header, s.headerAt + 20, at);
    if (s.characteristics & SCN_CNT_INITIALIZED_DATA) initDelta += rawSize - s.rawSize;
    at += rawSize;
    imageEnd = va + data.length;
    va = align(va + Math.max(data.length, 1), SA);
  }
  const sizeOfImage = align(imageEnd, SA);
  if (symAt !== 0) {
    putU32(header, coff.header.at + 8, at);
    pieces.push({ at, data: symtab ?? bytes.subarray(symAt, coff.strtabAt) });
    pieces.push({ at: at + (coff.strtabAt - symAt), data: bytes.subarray(coff.strtabAt, strEnd) });
    at += strEnd - symAt;
  }
  const length = padEnd ? align(at, FA) : at;
  const opt = img.optAt;
  putU32(header, opt + OPT_SIZE_OF_IMAGE, sizeOfImage);
  let initSum = 0;
  for (const s of secs) if (s.characteristics & SCN_CNT_INITIALIZED_DATA) initSum += s.rawSize;
  if (img.sizeOfInitializedData === initSum % 0x100000000) putU32(header, opt + OPT_SIZE_OF_INITIALIZED_DATA, initSum + initDelta);
  return { image: new Image(pieces, length), moved: true };
}

/**
 * The new object in GNU as's layout. `contents`: new bytes of sections (by number); `tables`:
 * new bytes of relocation tables (by section number, same size); `symtab`: the symbol table
 * (same size). Returns the image and whether any byte moved.
 */
export function layoutObject(c: Coff, contents: ReadonlyMap<number, Uint8Array>, tables: ReadonlyMap<number, Uint8Array>, symtab: Uint8Array | undefined): { image: Image; moved: boolean } {
  const { bytes, header: h } = c;
  if (c.sections.some((s) => s.nlinenos > 0)) {
    // COFF line numbers (-gcoff, long deprecated): kept in place, so nothing may move.
    const resized = [...contents].some(([n, d]) => d.length !== c.sections[n - 1]!.rawSize);
    if (resized) throw new Unsupported('COFF line numbers with a section that changes size');
    const reps = [...contents].map(([n, data]) => ({ at: c.sections[n - 1]!.rawPtr, data }));
    for (const [n, data] of tables) reps.push({ at: relocTable(c.sections[n - 1]!).at, data });
    if (symtab) reps.push({ at: h.symtabOffset, data: symtab });
    return { image: new Image(splice(bytes, reps), bytes.length), moved: false };
  }
  const headEnd = h.at + FILE_HEADER_SIZE + h.optSize + h.nsections * SECTION_HEADER_SIZE;
  const header = Uint8Array.from(bytes.subarray(0, headEnd));
  const pieces: Piece[] = [{ at: 0, data: header }];
  let at = headEnd;
  let moved = false;
  const set = (s: Section, field: number, v: number, old: number) => {
    putU32(header, s.headerAt + field, v);
    if (v !== old) moved = true;
  };
  for (const s of c.sections) {
    const data = contents.get(s.number) ?? (hasRawData(s) ? bytes.subarray(s.rawPtr, s.rawPtr + s.rawSize) : undefined);
    if (!data || data.length === 0) {
      set(s, 20, 0, s.rawPtr);
      if (data) set(s, 16, 0, s.rawSize);
      continue;
    }
    pieces.push({ at, data });
    set(s, 16, data.length, s.rawSize);
    set(s, 20, at, s.rawPtr);
    at += data.length;
  }
  at = align(at, 4);
  for (const s of c.sections) {
    const t = relocTable(s);
    if (t.size === 0) {
      set(s, 24, 0, s.relocPtr);
      continue;
    }
    pieces.push({ at, data: tables.get(s.number) ?? bytes.subarray(t.at, t.at + t.size) });
    set(s, 24, at, s.relocPtr);
    at += t.size;
  }
  if (h.symtabOffset !== 0) {
    putU32(header, h.at + 8, at);
    if (at !== h.symtabOffset) moved = true;
    const strEnd = c.strtabAt + c.strtabSize;
    pieces.push({ at, data: symtab ?? bytes.subarray(h.symtabOffset, c.strtabAt) });
    pieces.push({ at: at + (c.strtabAt - h.symtabOffset), data: bytes.subarray(c.strtabAt, strEnd) });
    at += strEnd - h.symtabOffset;
  }
  if (at !== bytes.length) moved = true;
  return { image: new Image(pieces, at), moved };
}
