// The PE/COFF side of DWARF rewriting (mingw's -g: .debug_* sections named through the COFF
// string table): sections, COFF relocations (REL-style: the addend is the field) and symbols as
// formats/dwarf/rewrite.ts wants them. Index 0 is a placeholder, 1..n are the COFF sections (so
// an index is a section number), then one pseudo-section per relocation table and one for the
// symbol table, whose bytes the rewrite patches like a section's.
import { FormatError } from '../../src/types.js';
import { Unsupported, type DwarfContainer, type DwarfSection, type DwarfSymbol, type Reloc } from '../dwarf/container.js';
import { RELOC_SIZE, SYMBOL_SIZE, SYM_CLASS_STATIC, readSymbols, relocTable, u16, u32, type Coff, type Section } from './coff.js';

export interface CoffDwarf extends DwarfContainer {
  /** Index of the pseudo-section holding the symbol table (undefined without one). */
  readonly symtabIndex?: number;
  /** Pseudo-section index of each COFF section's relocation table. */
  readonly relocIndex: ReadonlyMap<number, number>;
}

/** Machine-specific SECREL relocation types: a 32-bit offset from the symbol's section start. */
const SECREL: ReadonlyMap<number, number> = new Map([
  [0x14c, 0x0b], // IMAGE_REL_I386_SECREL
  [0x8664, 0x0b], // IMAGE_REL_AMD64_SECREL
  [0xaa64, 0x08], // IMAGE_REL_ARM64_SECREL
  [0x1c4, 0x0f], // IMAGE_REL_ARM_SECREL
]);

/** `data(s)` of a COFF section: for an image its raw data up to the virtual size, for an object its raw data. */
export function coffDwarf(c: Coff, isImage: boolean): CoffDwarf {
  const b = c.bytes;
  const sections: DwarfSection[] = [{ index: 0, name: '' }];
  const real = new Map<number, Section>();
  for (const s of c.sections) {
    sections.push({ index: s.number, name: s.name });
    real.set(s.number, s);
  }
  const pseudo = new Map<number, Uint8Array>();
  const relocIndex = new Map<number, number>();
  for (const s of c.sections) {
    if (s.nrelocs === 0) continue;
    const t = relocTable(s);
    const index = sections.length;
    sections.push({ index, name: `<relocations of ${s.name}>` });
    pseudo.set(index, b.subarray(t.at, t.at + t.size));
    relocIndex.set(s.number, index);
  }
  let symtabIndex: number | undefined;
  if (c.header.symtabOffset !== 0 && c.header.nsymbols > 0) {
    symtabIndex = sections.length;
    sections.push({ index: symtabIndex, name: '<symbol table>' });
    pseudo.set(symtabIndex, b.subarray(c.header.symtabOffset, c.header.symtabOffset + c.header.nsymbols * SYMBOL_SIZE));
  }
  let symbols: ReturnType<typeof readSymbols> | undefined;
  let byIndex: Map<number, { section: number; value: number }> | undefined;
  const symbolAt = (i: number) => {
    if (!byIndex) {
      symbols ??= readSymbols(c);
      byIndex = new Map(symbols.map((s) => [s.index, { section: s.section > 0 ? s.section : 0, value: s.value }]));
    }
    return byIndex.get(i);
  };
  const sectionData = (s: Section): Uint8Array => {
    if (s.rawPtr === 0) return new Uint8Array(0);
    const size = isImage ? Math.min(s.rawSize, s.virtualSize || s.rawSize) : s.rawSize;
    return b.subarray(s.rawPtr, s.rawPtr + size);
  };
  return {
    le: true,
    sections,
    symtabIndex,
    relocIndex,
    hasData: (s) => pseudo.has(s.index) || (real.get(s.index)?.rawPtr ?? 0) !== 0,
    data(s) {
      const p = pseudo.get(s.index);
      if (p) return p;
      const r = real.get(s.index);
      if (!r) throw new FormatError(`no section ${s.index}`);
      return sectionData(r);
    },
    relocs(targets) {
      const out = new Map<number, Map<number, Reloc>>();
      if (isImage) return out;
      for (const n of targets) {
        const s = real.get(n);
        const ri = relocIndex.get(n);
        if (!s || ri === undefined) continue;
        const table = pseudo.get(ri)!;
        const first = relocTable(s).first;
        const byOff = new Map<number, Reloc>();
        for (let e = first; e + RELOC_SIZE <= table.length; e += RELOC_SIZE) {
          const offset = u32(table, e);
          const sym = u32(table, e + 4);
          const type = u16(table, e + 8);
          const target = symbolAt(sym);
          if (!target) throw new FormatError(`relocation in section ${s.name} names symbol ${sym}, which is not a symbol entry`);
          const prev = byOff.get(offset);
          if (prev) {
            byOff.set(offset, { ...prev, multi: true });
            continue;
          }
          byOff.set(offset, { relSec: sections[ri]!, entryOffset: e, rela: false, target: n, offset, sym, type, addend: 0, symSection: target.section, symValue: target.value });
        }
        out.set(n, byOff);
      }
      return out;
    },
    relocFieldSize(r) {
      if (SECREL.get(c.header.machine) === r.type) return 4;
      throw new Unsupported(`relocation type 0x${r.type.toString(16)} against a debug section is not a section-relative offset`);
    },
    relocEntry: { offsetSize: 4 },
    *symbols(): Iterable<DwarfSymbol> {
      if (symtabIndex === undefined) return;
      symbols ??= readSymbols(c);
      for (const s of symbols) {
        if (s.section <= 0) continue;
        const isSection = s.storageClass === SYM_CLASS_STATIC && s.value === 0 && s.naux > 0;
        yield { shndx: s.section, value: s.value, isSection, table: symtabIndex, valueAt: s.at - c.header.symtabOffset + 8, valueSize: 4 };
      }
    },
  };
}
