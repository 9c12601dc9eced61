// .debug_info / .debug_types (DWARF 2-5, sections 7.5.1 and 7.5.5): walks every unit and DIE
// and records the places that hold or point at strings (DW_FORM_strp, DW_FORM_line_strp,
// inline DW_FORM_string) and the DW_AT_stmt_list offsets into .debug_line. strx forms need
// no resolving: every .debug_str_offsets entry is patched as a reference of its own.
import type { AbbrevTable } from './abbrev.js';
import { Cursor } from './cursor.js';
import { readUnitHeader, resolveIndirect, skipForm } from './forms.js';

export const DW_AT_stmt_list = 0x10;

/**
 * A growable list of section offsets and field sizes in a typed array (millions of entries in
 * a large binary). Values are below 2^32: sections are held in memory, at most 1 GiB.
 */
export class NumList {
  a = new Uint32Array(64);
  length = 0;
  push(v: number, w?: number): void {
    if (this.length + 2 > this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    if (!(v >= 0 && v <= 0xffffffff) || (w !== undefined && !(w >= 0 && w <= 0xffffffff))) throw new RangeError(`offset ${v} out of range`);
    this.a[this.length++] = v;
    if (w !== undefined) this.a[this.length++] = w;
  }
}

/** Field locations found in one section; offsets are in that section's bytes. */
export class Refs {
  /** DW_FORM_strp (and strp line-table forms): field offset, field size. */
  readonly str = new NumList();
  readonly strSize = new NumList();
  /** DW_FORM_line_strp. */
  readonly lineStr = new NumList();
  readonly lineStrSize = new NumList();
  /** Inline strings: [start, end) pairs, end at the NUL. */
  readonly inline = new NumList();
  /** Offsets into .debug_line (DW_AT_stmt_list, .debug_macro headers). */
  readonly line = new NumList();
  readonly lineSize = new NumList();
}

export interface UnitInfo {
  readonly start: number;
  readonly end: number;
  /** Size of the initial length field (4 or 12). */
  readonly lengthFieldSize: number;
}

/**
 * Walk the units of `.debug_info` (or `.debug_types` when `types`). `abbrevAt(fieldOffset,
 * size)` resolves a unit's debug_abbrev_offset field (through a relocation in a .o file) to a
 * parsed table.
 */
export function walkInfo(
  b: Uint8Array,
  le: boolean,
  types: boolean,
  name: string,
  abbrevAt: (fieldOffset: number, size: number) => AbbrevTable,
  out: Refs,
): UnitInfo[] {
  const c = new Cursor(b, le, 0, b.length, name);
  const units: UnitInfo[] = [];
  while (c.pos < b.length) {
    const { start, end, lengthFieldSize, sizes, abbrevField } = readUnitHeader(c, b.length, types);
    const osz = sizes.offset;
    const abbrevs = abbrevAt(abbrevField, osz);
    while (c.pos < end) {
      const code = c.uleb();
      if (code === 0) continue;
      const ab = abbrevs.get(code);
      if (!ab) throw c.fail(`unknown abbreviation code ${code}`);
      const { attrs, forms } = ab;
      for (let i = 0; i < forms.length; i++) {
        const form = resolveIndirect(c, forms[i]!);
        switch (form) {
          case 0x06: // data4
          case 0x07: // data8
          case 0x17: // sec_offset
            if (attrs[i] === DW_AT_stmt_list) {
              const size = form === 0x06 ? 4 : form === 0x07 ? 8 : osz;
              out.line.push(c.pos);
              out.lineSize.push(size);
              c.skip(size);
            } else c.skip(form === 0x06 ? 4 : form === 0x07 ? 8 : osz);
            break;
          case 0x08: {
            // string
            const [s, e] = c.cstr();
            out.inline.push(s, e);
            break;
          }
          case 0x0e: // strp
            out.str.push(c.pos);
            out.strSize.push(osz);
            c.skip(osz);
            break;
          case 0x1f: // line_strp
            out.lineStr.push(c.pos);
            out.lineStrSize.push(osz);
            c.skip(osz);
            break;
          default:
            skipForm(c, form, sizes, 'an attribute');
        }
      }
    }
    units.push({ start, end, lengthFieldSize });
    c.pos = end;
  }
  return units;
}
