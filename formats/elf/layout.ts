// Canonical file layout. Everything a program header maps, and every SHF_ALLOC section, keeps
// its offset and bytes. The other sections are laid out after them in section-index order,
// each at its sh_addralign, then the section header table at the word size: what GNU ld,
// gold and lld already do. In a relocatable file (no segments) the layout is GNU as's: the
// sections in index order except relocations, then the relocation sections, then .shstrtab,
// then the header table. Every byte not covered by a header, a segment or a section is zero.
// A separate debug file (objcopy --only-keep-debug, eu-strip -f, rpm's find-debuginfo) keeps
// the program headers of the binary it was split from: they describe the binary's file, not
// this one (eu-strip keeps their file sizes, so a "segment" spans the DWARF). There only the
// headers and the loaded sections that still have contents (the notes) stay; the segments
// pin nothing.
import { FormatError } from '../../src/types.js';
import { Bin, ET_REL, SHF_ALLOC, SHT_NOBITS, SHT_NULL, SHT_REL, SHT_RELA, isSeparateDebugFile, shdrFieldOffsets, type Elf, type Header, type Section } from './elf.js';
import { Image, type Piece } from './image.js';

export interface Layout {
  /** The new file, as pieces of the input and of the new sections. */
  readonly image: Image;
  /** New sh_offset of each section. */
  readonly offsets: number[];
  /** The new file's header and sections (offsets, sizes, flags and alignments as written). */
  readonly header: Header;
  readonly sections: Section[];
}

function align(x: number, a: number): number {
  return a > 1 ? Math.ceil(x / a) * a : x;
}

const debugOnlyCache = new WeakMap<Elf, boolean>();

/** A separate debug file (elf.ts, isSeparateDebugFile): its segments pin no section. */
export function isDebugOnly(elf: Elf): boolean {
  let r = debugOnlyCache.get(elf);
  if (r === undefined) debugOnlyCache.set(elf, (r = isSeparateDebugFile(elf.header.type, elf.sections)));
  return r;
}

/** True when a section must stay where it is (it is loaded, or lies inside a segment). */
export function isFixed(elf: Elf, s: Section): boolean {
  if (s.type === SHT_NULL) return true;
  if (elf.header.type === ET_REL) return false;
  if (s.flags & SHF_ALLOC) return true;
  if (s.type === SHT_NOBITS || s.size === 0) return false;
  // A debug file's program headers are the binary's: no section lies in them.
  if (isDebugOnly(elf)) return false;
  return elf.segments.some((p) => p.filesz > 0 && s.offset >= p.offset && s.offset + s.size <= p.offset + p.filesz);
}

/** New raw bytes of a section, with its flags and alignment (they change with SHF_COMPRESSED). */
export interface NewSection {
  readonly data: Uint8Array;
  readonly flags: number;
  readonly addralign: number;
}

/** Lay the file out with `contents` (changed sections) in place of the old ones. */
export function layout(elf: Elf, contents: ReadonlyMap<number, NewSection>): Layout {
  const { header: h, bytes, sections } = elf;
  const size = (s: Section) => contents.get(s.index)?.data.length ?? s.size;
  const alignOf = (s: Section) => contents.get(s.index)?.addralign ?? s.addralign;
  const phEnd = h.phnum > 0 ? h.phoff + h.phnum * h.phentsize : 0;
  const fixed = sections.map((s) => isFixed(elf, s));
  for (const s of sections) if (fixed[s.index] && s.type !== SHT_NULL && contents.has(s.index)) throw new FormatError(`internal: allocated section ${s.name} would change`);

  // The fixed region: headers, segments and fixed sections.
  const covered: Array<[number, number]> = [[0, h.ehsize]];
  if (phEnd > 0) covered.push([h.phoff, phEnd]);
  if (!isDebugOnly(elf)) for (const p of elf.segments) if (p.filesz > 0) covered.push([p.offset, Math.min(bytes.length, p.offset + p.filesz)]);
  for (const s of sections) if (fixed[s.index] && s.type !== SHT_NOBITS && s.type !== SHT_NULL && s.size > 0) covered.push([s.offset, s.offset + s.size]);
  let cur = 0;
  for (const [, e] of covered) cur = Math.max(cur, e);
  const fixedEnd = cur;

  const offsets = sections.map((s) => s.offset);
  const place = (s: Section) => {
    if (alignOf(s) > 0x100000) throw new FormatError(`section ${s.index} alignment ${alignOf(s)} is not supported`);
    cur = align(cur, alignOf(s));
    offsets[s.index] = s.type === SHT_NULL ? 0 : cur;
    if (s.type !== SHT_NOBITS) cur += size(s);
  };
  const floating = sections.filter((s) => !fixed[s.index]);
  if (h.type === ET_REL) {
    const isRel = (s: Section) => s.type === SHT_REL || s.type === SHT_RELA;
    for (const s of floating) if (!isRel(s) && s.index !== h.shstrndx) place(s);
    for (const s of floating) if (isRel(s) && s.index !== h.shstrndx) place(s);
    const shstr = sections[h.shstrndx];
    if (shstr && h.shstrndx !== 0) place(shstr);
  } else {
    for (const s of floating) place(s);
  }
  const shoff = sections.length > 0 ? align(cur, h.is64 ? 8 : 4) : 0;
  const total = shoff + sections.length * (h.is64 ? 64 : 40);
  if (!h.is64 && total > 0xffffffff) throw new FormatError('output would exceed 4 GiB in a 32-bit ELF');

  const pieces: Piece[] = [];
  // The covered parts of the fixed region (gaps stay zero).
  covered.sort((a, b) => a[0] - b[0]);
  let from = -1;
  let to = -1;
  const flush = () => {
    if (to > from) pieces.push({ at: from, data: bytes.subarray(from, to) });
  };
  for (const [s, e] of covered) {
    if (s > to) {
      flush();
      from = s;
      to = e;
    } else to = Math.max(to, e);
  }
  flush();
  if (fixedEnd > shoff) throw new FormatError('internal: layout overlaps the fixed region');
  for (const s of floating) {
    if (s.type === SHT_NOBITS || s.type === SHT_NULL) continue;
    const data = contents.get(s.index)?.data ?? bytes.subarray(s.offset, s.offset + s.size);
    pieces.push({ at: offsets[s.index]!, data });
  }
  // Section headers: the originals with new offsets and sizes.
  const ent = h.is64 ? 64 : 40;
  const f = shdrFieldOffsets(h.is64);
  const table = new Uint8Array(sections.length * ent);
  const bin = new Bin(table, h.le);
  const outSections: Section[] = [];
  for (const s of sections) {
    const at = s.index * ent;
    table.set(bytes.subarray(s.headerOffset, s.headerOffset + ent), at);
    const n = contents.get(s.index);
    outSections.push({ ...s, offset: s.type === SHT_NULL ? s.offset : offsets[s.index]!, size: size(s), flags: n?.flags ?? s.flags, addralign: n?.addralign ?? s.addralign, headerOffset: shoff + at });
    if (s.type === SHT_NULL) continue;
    if (h.is64) {
      bin.setU64(at + f.offset, offsets[s.index]!);
      bin.setU64(at + f.size, size(s));
      if (n) {
        bin.setU64(at + 8, n.flags);
        bin.setU64(at + 48, n.addralign);
      }
    } else {
      bin.setU32(at + f.offset, offsets[s.index]!);
      bin.setU32(at + f.size, size(s));
      if (n) {
        bin.setU32(at + 8, n.flags);
        bin.setU32(at + 32, n.addralign);
      }
    }
  }
  if (table.length > 0) pieces.push({ at: shoff, data: table });
  const image = new Image(pieces, total);
  // e_shoff in a copy of the ELF header.
  const ehdr = Uint8Array.from(bytes.subarray(0, h.ehsize));
  if (h.is64) new Bin(ehdr, h.le).setU64(40, shoff);
  else new Bin(ehdr, h.le).setU32(32, shoff);
  image.patch(0, ehdr);
  return { image, offsets, header: { ...h, shoff }, sections: outSections };
}
