// The ELF side of DWARF rewriting: the file's sections (SHF_COMPRESSED ones inflated within the
// limits), its SHT_REL/SHT_RELA relocations and SHT_SYMTAB symbols, as formats/dwarf/rewrite.ts
// wants them (DwarfContainer).
import { rewriteDebug as rewriteDwarf, Unsupported, type DebugRewrite } from '../dwarf/rewrite.js';
import type { DwarfContainer, DwarfSymbol, Reloc } from '../dwarf/container.js';
import type { PathMapper } from '../dwarf/strings.js';
import { SHT_NOBITS, SHT_REL, SHT_RELA, SHT_SYMTAB, sectionData, type Elf } from './elf.js';
import { readRelocs, readSymbols } from './relocs.js';

export { bytesEq, Unsupported, type DebugRewrite } from '../dwarf/rewrite.js';

export function elfDwarf(elf: Elf, maxBytes: number, maxRatio: number): DwarfContainer {
  const { le, is64 } = elf.header;
  const secs = elf.sections;
  return {
    le,
    sections: secs,
    hasData: (s) => secs[s.index]!.type !== SHT_NOBITS,
    data: (s) => sectionData(elf, secs[s.index]!, maxBytes, maxRatio),
    relocs(targets) {
      const any = secs.some((s) => (s.type === SHT_REL || s.type === SHT_RELA) && targets.has(s.info));
      return any ? readRelocs(elf, targets) : new Map<number, Map<number, Reloc>>();
    },
    relocFieldSize: (r) => relocFieldSize(elf, r),
    relocEntry: { offsetSize: is64 ? 8 : 4, addendAt: is64 ? 16 : 8, addendSize: is64 ? 8 : 4 },
    *symbols(): Iterable<DwarfSymbol> {
      for (const st of secs) {
        if (st.type !== SHT_SYMTAB) continue;
        for (const sym of readSymbols(elf, st)) {
          yield { shndx: sym.shndx, value: sym.value, isSection: sym.type === 3 /* STT_SECTION */, table: st.index, valueAt: sym.valueAt, valueSize: is64 ? 8 : 4 };
        }
      }
    },
  };
}

/** Map build paths and canonicalize the string tables of an ELF file's DWARF. */
export function rewriteDebug(elf: Elf, mapper: PathMapper, maxBytes: number, maxRatio: number): DebugRewrite {
  return rewriteDwarf(elfDwarf(elf, maxBytes, maxRatio), mapper);
}

function relocFieldSize(elf: Elf, r: Reloc): number {
  // Debug sections use plain absolute data relocations; their width follows the class, except
  // the 32-bit ones of 64-bit targets (R_X86_64_32 = 10, R_AARCH64_ABS32 = 258, ...).
  const { machine, is64 } = elf.header;
  if (!is64) return 4;
  if (machine === 62) return r.type === 1 ? 8 : r.type === 10 || r.type === 11 ? 4 : fail(r);
  if (machine === 183) return r.type === 257 ? 8 : r.type === 258 ? 4 : fail(r);
  if (machine === 243) return r.type === 2 ? 8 : r.type === 1 ? 4 : fail(r);
  if (machine === 21) return r.type === 38 ? 8 : r.type === 1 ? 4 : fail(r);
  if (machine === 22) return r.type === 22 ? 8 : r.type === 4 ? 4 : fail(r);
  return fail(r);
}

function fail(r: Reloc): never {
  throw new Unsupported(`relocation type ${r.type} against a debug section is not understood`);
}
