// What the DWARF rewriting (rewrite.ts) needs of the file that carries the debug sections: ELF
// (formats/elf/debug.ts) and PE/COFF (formats/pe/dwarf.ts) each describe themselves through
// this interface, so both share one implementation of path mapping, canonical string tables
// and the patching of every reference.
//
// Sections are addressed by index. Besides the real sections, a container may expose
// pseudo-sections (a COFF relocation table, a COFF symbol table) whose bytes the rewrite patches
// like any other section's; their names must not start with ".debug_".

/** A section of the container. `sections[i].index === i` for every i. */
export interface DwarfSection {
  readonly index: number;
  readonly name: string;
}

/** One relocation: a field of a section whose value is a symbol's plus an addend. */
export interface Reloc {
  /** The (pseudo-)section holding this relocation entry, and the entry's offset inside it. */
  readonly relSec: DwarfSection;
  readonly entryOffset: number;
  /** RELA (the addend is in the entry) or REL (the addend is the field itself). */
  readonly rela: boolean;
  /** Target section and offset in it. */
  readonly target: number;
  readonly offset: number;
  readonly sym: number;
  readonly type: number;
  readonly addend: number;
  /** Section the symbol is defined in (0 when undefined or absolute) and its value. */
  readonly symSection: number;
  readonly symValue: number;
  /** More than one relocation applies at this offset (RISC-V ADD/SUB pairs): not a plain offset. */
  readonly multi?: boolean;
}

/** A symbol defined in a section, and where its value is stored. */
export interface DwarfSymbol {
  readonly shndx: number;
  readonly value: number;
  /** A section symbol (its value is the section start, not a place inside it). */
  readonly isSection: boolean;
  /** The (pseudo-)section holding the symbol entry, and the value field in it. */
  readonly table: number;
  readonly valueAt: number;
  readonly valueSize: number;
}

export interface DwarfContainer {
  readonly le: boolean;
  readonly sections: readonly DwarfSection[];
  /** Whether the section has contents in the file (an ELF SHT_NOBITS one has none). */
  hasData(s: DwarfSection): boolean;
  /** The section's contents, uncompressed; throws FormatError past the limits. */
  data(s: DwarfSection): Uint8Array;
  /** Relocations whose target is one of `targets`, by target section and offset (empty when none). */
  relocs(targets: ReadonlySet<number>): Map<number, Map<number, Reloc>>;
  /** Width of the field a relocation writes; throws Unsupported for a type that is not a plain offset. */
  relocFieldSize(r: Reloc): number;
  /** Where a relocation entry keeps its offset, and (RELA) its addend. */
  readonly relocEntry: { readonly offsetSize: number; readonly addendAt?: number; readonly addendSize?: number };
  /** Symbols defined in sections (only read when a section changes length). */
  symbols(): Iterable<DwarfSymbol>;
}

/** Input we deliberately do not rewrite: the handler leaves the file untouched with this reason. */
export class Unsupported extends Error {}
