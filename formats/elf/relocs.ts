// Relocations (gABI "Relocation", SHT_REL/SHT_RELA) and the symbols they name. In a .o file
// every offset a debug section holds into another one (a .debug_str offset, a stmt_list) is
// the value of a relocation: symbol value + addend (RELA), or + the field itself (REL).
import { FormatError } from '../../src/types.js';
import type { Reloc } from '../dwarf/container.js';
import { Bin, SHT_REL, SHT_RELA, SHT_SYMTAB, SHT_SYMTAB_SHNDX, rawSection, type Elf, type Section } from './elf.js';

export type { Reloc } from '../dwarf/container.js';

export interface Symbol {
  readonly shndx: number;
  readonly value: number;
  readonly type: number;
  /** Offset of st_value inside the symbol table. */
  readonly valueAt: number;
}

export function readSymbols(elf: Elf, symtab: Section): Symbol[] {
  const { is64, le } = elf.header;
  const data = rawSection(elf, symtab);
  const bin = new Bin(data, le);
  const ent = is64 ? 24 : 16;
  if (data.length % ent !== 0) throw new FormatError(`symbol table ${symtab.name} size is not a multiple of ${ent}`);
  let shndxTable: Bin | undefined;
  const x = elf.sections.find((s) => s.type === SHT_SYMTAB_SHNDX && s.link === symtab.index);
  if (x) shndxTable = new Bin(rawSection(elf, x), le);
  const out: Symbol[] = [];
  for (let p = 0, i = 0; p < data.length; p += ent, i++) {
    const info = is64 ? bin.u8(p + 4) : bin.u8(p + 12);
    let shndx = is64 ? bin.u16(p + 6) : bin.u16(p + 14);
    const valueAt = is64 ? p + 8 : p + 4;
    const value = is64 ? bin.u64(valueAt) : bin.u32(valueAt);
    if (shndx === 0xffff && shndxTable) {
      if (4 * i + 4 > shndxTable.bytes.length) throw new FormatError('SHT_SYMTAB_SHNDX too short');
      shndx = shndxTable.u32(4 * i);
    } else if (shndx >= 0xff00) shndx = 0;
    out.push({ shndx, value, type: info & 0xf, valueAt });
  }
  return out;
}

/** Every relocation of the file whose target is one of `targets`, grouped by target section. */
export function readRelocs(elf: Elf, targets: ReadonlySet<number>): Map<number, Map<number, Reloc>> {
  const { is64, le, machine } = elf.header;
  const out = new Map<number, Map<number, Reloc>>();
  const symCache = new Map<number, Symbol[]>();
  for (const rs of elf.sections) {
    if (rs.type !== SHT_REL && rs.type !== SHT_RELA) continue;
    if (!targets.has(rs.info)) continue;
    if (machine === 8 && is64) throw new FormatError('MIPS64 relocations are not supported');
    const symtab = elf.sections[rs.link];
    if (!symtab || symtab.type !== SHT_SYMTAB) throw new FormatError(`relocation section ${rs.name} has no symbol table`);
    let syms = symCache.get(symtab.index);
    if (!syms) symCache.set(symtab.index, (syms = readSymbols(elf, symtab)));
    const rela = rs.type === SHT_RELA;
    const ent = (is64 ? 16 : 8) + (rela ? (is64 ? 8 : 4) : 0);
    const data = rawSection(elf, rs);
    if (data.length % ent !== 0) throw new FormatError(`relocation section ${rs.name} size is not a multiple of ${ent}`);
    const bin = new Bin(data, le);
    let byOff = out.get(rs.info);
    if (!byOff) out.set(rs.info, (byOff = new Map()));
    for (let p = 0; p < data.length; p += ent) {
      const offset = is64 ? bin.u64(p) : bin.u32(p);
      let sym: number;
      let type: number;
      if (is64) {
        sym = bin.u32(le ? p + 12 : p + 8);
        type = bin.u32(le ? p + 8 : p + 12);
      } else {
        const info = bin.u32(p + 4);
        sym = info >>> 8;
        type = info & 0xff;
      }
      const addend = rela ? (is64 ? bin.i64(p + 16) : bin.i32(p + 8)) : 0;
      const s = syms[sym];
      if (!s) throw new FormatError(`relocation in ${rs.name} names symbol ${sym}, not in ${symtab.name}`);
      const prev = byOff.get(offset);
      if (prev) {
        byOff.set(offset, { ...prev, multi: true });
        continue;
      }
      byOff.set(offset, { relSec: rs, entryOffset: p, rela, target: rs.info, offset, sym, type, addend, symSection: s.shndx, symValue: s.value });
    }
  }
  return out;
}
