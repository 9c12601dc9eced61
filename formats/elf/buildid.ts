// GNU build-id (NT_GNU_BUILD_ID) recomputed with the algorithm of the linker that made the
// file, as measured against GNU ld 2.40, gold 1.16 and lld 14 (FORMAT-NOTES.md):
// - GNU ld (bfd elf_checksum_contents): the ELF header with e_phoff and e_shoff zeroed, every
//   program header, then for each section its header with sh_offset zeroed followed by its
//   contents (none for SHT_NOBITS and for the tables bfd keeps no section for: .symtab, its
//   .strtab, .shstrtab, SHT_SYMTAB_SHNDX). The build-id note section is hashed as all zeros.
// - gold: one hash of the whole file with the id zeroed; with `--build-id` alone (style
//   "tree", what gcc passes) and a file of 40 MiB or more, SHA1 of the MD5s of its 2 MiB
//   chunks. Which of the two made an id is found by trying both.
// - lld: the file in 1 MiB chunks with the id zeroed, each chunk hashed, then the hash of the
//   concatenated chunk hashes; `--build-id` alone means "fast" (8-byte xxHash64).
// The id length picks the hash: 20 sha1, 16 md5 (8 xxHash64 for lld).
import { createHash } from 'node:crypto';
import { Bin, SHT_NOBITS, SHT_NULL, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX, rawSection, type BuildIdNote, type Elf, type Header, type Section } from './elf.js';
import type { ByteRange } from './image.js';

/** What hashing reads of a file: its header, sections and bytes (an Elf, or a laid-out Image). */
export interface ElfView {
  readonly header: Header;
  readonly sections: readonly Section[];
  readonly bytes: ByteRange;
}

export type Linker = 'GNU ld' | 'gold' | 'lld';
/** An algorithm: a linker's, and for gold the style (`--build-id` alone means "tree" there). */
export type Algorithm = Linker | 'gold tree';

export function detectLinker(elf: Elf): Linker {
  if (elf.sections.some((s) => s.name === '.note.gnu.gold-version')) return 'gold';
  const comment = elf.sections.find((s) => s.name === '.comment' && s.type !== SHT_NOBITS);
  if (comment) {
    const text = Buffer.from(rawSection(elf, comment)).toString('latin1');
    if (/Linker: [^\0]*LLD/.test(text)) return 'lld';
  }
  return 'GNU ld';
}

/** The algorithm that gives the stored id for this file, if one does. */
export function verifyBuildId(elf: Elf, note: BuildIdNote): { algorithm?: Algorithm; linker: Linker } {
  const linker = detectLinker(elf);
  const stored = elf.bytes.subarray(note.fileOffset, note.fileOffset + note.size);
  const candidates: Algorithm[] = linker === 'gold' ? (note.size === 20 && elf.bytes.length >= GOLD_TREEHASH_MIN ? ['gold tree', 'gold'] : ['gold']) : [linker];
  for (const a of candidates) {
    const id = computeBuildId(a, elf, note);
    if (id && Buffer.compare(id, stored) === 0) return { algorithm: a, linker };
  }
  return { linker };
}

type Hasher = { update(b: Uint8Array): void; digest(): Uint8Array };

function hasher(size: number): Hasher | undefined {
  if (size === 20) return wrap(createHash('sha1'));
  if (size === 16) return wrap(createHash('md5'));
  return undefined;
}

function wrap(h: ReturnType<typeof createHash>): Hasher {
  return { update: (b) => h.update(b), digest: () => new Uint8Array(h.digest()) };
}

/** The id the linker would have written for `elf` (its id bytes are ignored), or undefined when the kind is not known. */
export function computeBuildId(linker: Algorithm, elf: ElfView, note: BuildIdNote): Uint8Array | undefined {
  const b = elf.bytes;
  if (linker === 'GNU ld') {
    // ld hashes before it writes the note at all: the whole note section is zeros.
    return bfdHash(elf, note.section.offset, note.section.offset + note.section.size, note.size);
  }
  const z0 = note.fileOffset;
  const z1 = note.fileOffset + note.size;
  if (linker === 'gold' || linker === 'gold tree') {
    const h = hasher(note.size);
    if (!h) return undefined;
    if (linker === 'gold tree' && note.size === 20 && b.length >= GOLD_TREEHASH_MIN) {
      // gold's default sha1 id of a large file: the MD5s of its 2 MiB chunks, then SHA1.
      for (let at = 0; at < b.length; at += GOLD_CHUNK) {
        h.update(createHash('md5').update(zeroed(b, at, Math.min(b.length, at + GOLD_CHUNK), z0, z1)).digest());
      }
      return h.digest();
    }
    for (let at = 0; at < b.length; at += FEED_CHUNK) h.update(zeroed(b, at, Math.min(b.length, at + FEED_CHUNK), z0, z1));
    return h.digest();
  }
  return lldHash(b, z0, z1, note.size);
}

// gold 1.16 defaults (--build-id-min-file-size-for-treehash, --build-id-chunk-size-for-treehash);
// measured with `--build-id` (style "tree"): whole-file sha1 at 37.3 MiB, the chunked form at
// 49.6 MiB and 199 MiB; `--build-id=sha1` stays whole-file at 48 MiB.
const GOLD_TREEHASH_MIN = 40 << 20;
const GOLD_CHUNK = 2 << 20;
/** Whole-file hashes are fed in pieces of this size (the result is the same). */
const FEED_CHUNK = 4 << 20;

/** bytes[start, end) with [z0, z1) zeroed, copying only when the ranges overlap. */
function zeroed(bytes: ByteRange, start: number, end: number, z0: number, z1: number): Uint8Array {
  const part = bytes.subarray(start, end);
  if (z1 <= start || z0 >= end) return part;
  const copy = Uint8Array.from(part);
  copy.fill(0, Math.max(0, z0 - start), Math.min(end, z1) - start);
  return copy;
}

function bfdHash(elf: ElfView, z0: number, z1: number, size: number): Uint8Array | undefined {
  const h = hasher(size);
  if (!h) return undefined;
  const bytes = elf.bytes;
  const { header: e } = elf;
  const ehdr = Uint8Array.from(bytes.subarray(0, e.ehsize));
  const eb = new Bin(ehdr, e.le);
  if (e.is64) {
    eb.setU64(32, 0);
    eb.setU64(40, 0);
  } else {
    eb.setU32(28, 0);
    eb.setU32(32, 0);
  }
  h.update(ehdr);
  if (e.phnum > 0) h.update(zeroed(bytes, e.phoff, e.phoff + e.phnum * e.phentsize, z0, z1));
  const noContents = new Set<number>();
  for (const s of elf.sections) {
    if (s.type === SHT_SYMTAB) {
      noContents.add(s.index);
      noContents.add(s.link);
    }
    if (s.type === SHT_SYMTAB_SHNDX) noContents.add(s.index);
  }
  if (e.shstrndx !== 0) noContents.add(e.shstrndx);
  const ent = e.is64 ? 64 : 40;
  const offField = e.is64 ? 24 : 16;
  for (const s of elf.sections) {
    const sh = Uint8Array.from(bytes.subarray(e.shoff + s.index * ent, e.shoff + (s.index + 1) * ent));
    const sb = new Bin(sh, e.le);
    if (e.is64) sb.setU64(offField, 0);
    else sb.setU32(offField, 0);
    h.update(sh);
    if (s.type === SHT_NOBITS || s.type === SHT_NULL) continue;
    if (noContents.has(s.index) && (s.type === SHT_STRTAB || s.type === SHT_SYMTAB || s.type === SHT_SYMTAB_SHNDX)) continue;
    h.update(zeroed(bytes, s.offset, s.offset + s.size, z0, z1));
  }
  return h.digest();
}

const MIB = 1 << 20;

function lldHash(bytes: ByteRange, z0: number, z1: number, size: number): Uint8Array | undefined {
  const one = (b: Uint8Array): Uint8Array | undefined => {
    if (size === 8) return xxh64(b);
    const h = hasher(size);
    if (!h) return undefined;
    h.update(b);
    return h.digest();
  };
  const parts: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += MIB) {
    const d = one(zeroed(bytes, at, Math.min(bytes.length, at + MIB), z0, z1));
    if (!d) return undefined;
    parts.push(d);
  }
  return one(Buffer.concat(parts));
}

// xxHash64 (seed 0), little-endian output as lld writes it (write64le).
const M64 = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;
const rotl = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M64;
const round = (acc: bigint, v: bigint) => (rotl((acc + v * P2) & M64, 31n) * P1) & M64;
const merge = (acc: bigint, v: bigint) => ((((acc ^ round(0n, v)) * P1) & M64) + P4) & M64;

export function xxh64(b: Uint8Array): Uint8Array {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = b.length;
  let p = 0;
  let h: bigint;
  if (len >= 32) {
    let v1 = (P1 + P2) & M64;
    let v2 = P2;
    let v3 = 0n;
    let v4 = (-P1) & M64;
    for (; p + 32 <= len; p += 32) {
      v1 = round(v1, view.getBigUint64(p, true));
      v2 = round(v2, view.getBigUint64(p + 8, true));
      v3 = round(v3, view.getBigUint64(p + 16, true));
      v4 = round(v4, view.getBigUint64(p + 24, true));
    }
    h = (rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n)) & M64;
    h = merge(merge(merge(merge(h, v1), v2), v3), v4);
  } else h = P5;
  h = (h + BigInt(len)) & M64;
  for (; p + 8 <= len; p += 8) {
    h ^= round(0n, view.getBigUint64(p, true));
    h = ((rotl(h, 27n) * P1) & M64) + P4 & M64;
  }
  if (p + 4 <= len) {
    h ^= (BigInt(view.getUint32(p, true)) * P1) & M64;
    h = (((rotl(h, 23n) * P2) & M64) + P3) & M64;
    p += 4;
  }
  for (; p < len; p++) {
    h ^= (BigInt(b[p]!) * P5) & M64;
    h = (rotl(h, 11n) * P1) & M64;
  }
  h ^= h >> 33n;
  h = (h * P2) & M64;
  h ^= h >> 29n;
  h = (h * P3) & M64;
  h ^= h >> 32n;
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, h, true);
  return out;
}
