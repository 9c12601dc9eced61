// .debug_info / .debug_types (DWARF 2-5, sections 7.5.1 and 7.5.5): walks every unit and DIE
// and records the places that hold or point at strings (DW_FORM_strp, DW_FORM_line_strp,
// inline DW_FORM_string) and the DW_AT_stmt_list offsets into .debug_line. strx forms need
// no resolving: every .debug_str_offsets entry is patched as a reference of its own.
import type { AbbrevTable } from './abbrev.js';
import { Cursor } from './cursor.js';

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
    const start = c.pos;
    c.end = b.length;
    const [len, osz] = c.initialLength();
    const lengthFieldSize = c.pos - start;
    const end = c.pos + len;
    if (end > b.length) c.fail(`unit at ${start} runs past the section end`);
    c.end = end;
    const version = c.u16();
    if (version < 2 || version > 5) c.fail(`unsupported unit version ${version}`);
    let addrSize: number;
    let abbrevField: number;
    if (version >= 5) {
      const unitType = c.u8();
      addrSize = c.u8();
      abbrevField = c.pos;
      c.skip(osz);
      if (unitType === 2 || unitType === 6) c.skip(8 + osz);
      else if (unitType === 4 || unitType === 5) c.skip(8);
      else if (unitType !== 1 && unitType !== 3) c.fail(`unknown unit type ${unitType}`);
    } else {
      abbrevField = c.pos;
      c.skip(osz);
      addrSize = c.u8();
      if (types) c.skip(8 + osz);
    }
    const abbrevs = abbrevAt(abbrevField, osz);
    const refAddrSize = version === 2 ? addrSize : osz;
    while (c.pos < end) {
      const code = c.uleb();
      if (code === 0) continue;
      const ab = abbrevs.get(code);
      if (!ab) throw c.fail(`unknown abbreviation code ${code}`);
      const { attrs, forms } = ab;
      for (let i = 0; i < forms.length; i++) {
        let form = forms[i]!;
        const attr = attrs[i]!;
        for (let hops = 0; form === 0x16; hops++) {
          if (hops > 4) c.fail('DW_FORM_indirect loop');
          form = c.uleb();
        }
        switch (form) {
          case 0x01: // addr
            c.skip(addrSize);
            break;
          case 0x03:
            c.skip(c.u16());
            break;
          case 0x04:
            c.skip(c.u32());
            break;
          case 0x06: // data4
          case 0x07: // data8
          case 0x17: // sec_offset
            if (attr === DW_AT_stmt_list) {
              const size = form === 0x06 ? 4 : form === 0x07 ? 8 : osz;
              out.line.push(c.pos);
              out.lineSize.push(size);
              c.skip(size);
            } else c.skip(form === 0x06 ? 4 : form === 0x07 ? 8 : osz);
            break;
          case 0x05:
          case 0x12:
          case 0x26:
          case 0x2a:
            c.skip(2);
            break;
          case 0x08: {
            const [s, e] = c.cstr();
            out.inline.push(s, e);
            break;
          }
          case 0x09:
          case 0x18:
            c.skip(c.uleb());
            break;
          case 0x0a:
            c.skip(c.u8());
            break;
          case 0x0b:
          case 0x0c:
          case 0x11:
          case 0x25:
          case 0x29:
            c.skip(1);
            break;
          case 0x0d:
          case 0x0f:
          case 0x15:
          case 0x1a:
          case 0x1b:
          case 0x22:
          case 0x23:
          case 0x1f01:
          case 0x1f02:
            c.skipLeb();
            break;
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
          case 0x10:
            c.skip(refAddrSize);
            break;
          case 0x13:
          case 0x1c:
          case 0x28:
          case 0x2c:
            c.skip(4);
            break;
          case 0x14:
          case 0x20:
          case 0x24:
            c.skip(8);
            break;
          case 0x19:
          case 0x21:
            break;
          case 0x1d:
          case 0x1f20:
          case 0x1f21:
            c.skip(osz);
            break;
          case 0x1e:
            c.skip(16);
            break;
          case 0x27:
          case 0x2b:
            c.skip(3);
            break;
          default:
            c.fail(`unknown attribute form 0x${form.toString(16)}`);
        }
      }
    }
    units.push({ start, end, lengthFieldSize });
    c.pos = end;
  }
  return units;
}
