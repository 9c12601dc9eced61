// DWARF attribute forms (DWARF 5 section 7.5.6, the DWARF 2-4 forms and the GNU extensions
// 0x1f01-0x1f21): how much room each value takes, and the unit header of .debug_info and
// .debug_types (section 7.5.1). One table for every walker: the walkers handle the forms they
// record or refuse, and hand every other form here.
import type { Cursor } from './cursor.js';

/** Sizes a form's value may depend on; absent ones make such forms an error where they appear. */
export interface FormSizes {
  /** 4 or 8: 32- or 64-bit DWARF. */
  readonly offset: number;
  readonly addr?: number;
  /** DW_FORM_ref_addr: the address size in DWARF 2, the offset size after. */
  readonly refAddr?: number;
}

/** Skip one value of `form` (DW_FORM_indirect resolved first, see resolveIndirect). */
export function skipForm(c: Cursor, form: number, sizes: FormSizes, what: string): void {
  switch (form) {
    case 0x19: // flag_present
    case 0x21: // implicit_const (its value is in the abbreviation)
      return;
    case 0x0b: // data1
    case 0x0c: // flag
    case 0x11: // ref1
    case 0x25: // strx1
    case 0x29: // addrx1
      return c.skip(1);
    case 0x05: // data2
    case 0x12: // ref2
    case 0x26: // strx2
    case 0x2a: // addrx2
      return c.skip(2);
    case 0x27: // strx3
    case 0x2b: // addrx3
      return c.skip(3);
    case 0x06: // data4
    case 0x13: // ref4
    case 0x1c: // ref_sup4
    case 0x28: // strx4
    case 0x2c: // addrx4
      return c.skip(4);
    case 0x07: // data8
    case 0x14: // ref8
    case 0x20: // ref_sig8
    case 0x24: // ref_sup8
      return c.skip(8);
    case 0x1e: // data16
      return c.skip(16);
    case 0x0d: // sdata
    case 0x0f: // udata
    case 0x15: // ref_udata
    case 0x1a: // strx
    case 0x1b: // addrx
    case 0x22: // loclistx
    case 0x23: // rnglistx
    case 0x1f01: // GNU_addr_index
    case 0x1f02: // GNU_str_index
      return c.skipLeb();
    case 0x0e: // strp
    case 0x17: // sec_offset
    case 0x1d: // strp_sup
    case 0x1f: // line_strp
    case 0x1f20: // GNU_ref_alt
    case 0x1f21: // GNU_strp_alt
      return c.skip(sizes.offset);
    case 0x08: // string
      c.cstr();
      return;
    case 0x0a: // block1
      return c.skip(c.u8());
    case 0x03: // block2
      return c.skip(c.u16());
    case 0x04: // block4
      return c.skip(c.u32());
    case 0x09: // block
    case 0x18: // exprloc
      return c.skip(c.uleb());
    case 0x01: // addr
      if (sizes.addr === undefined) break;
      return c.skip(sizes.addr);
    case 0x10: // ref_addr
      if (sizes.refAddr === undefined) break;
      return c.skip(sizes.refAddr);
  }
  c.fail(`unsupported form 0x${form.toString(16)} in ${what}`);
}

/** The form a DW_FORM_indirect value names (chains of them allowed, loops refused). */
export function resolveIndirect(c: Cursor, form: number): number {
  for (let hops = 0; form === 0x16; hops++) {
    if (hops > 4) c.fail('DW_FORM_indirect loop');
    form = c.uleb();
  }
  return form;
}

export interface UnitHeader {
  readonly start: number;
  /** Offset just past the unit. */
  readonly end: number;
  /** Size of the initial length field (4 or 12). */
  readonly lengthFieldSize: number;
  readonly version: number;
  readonly sizes: Required<FormSizes>;
  /** Offset of the debug_abbrev_offset field. */
  readonly abbrevField: number;
}

/**
 * Read a unit header at the cursor (which must be at the unit's start); leaves the cursor at
 * the first DIE with its end set to the unit's end. `types`: a .debug_types unit (DWARF 4).
 */
export function readUnitHeader(c: Cursor, sectionEnd: number, types: boolean): UnitHeader {
  const start = c.pos;
  c.end = sectionEnd;
  const [len, osz] = c.initialLength();
  const lengthFieldSize = c.pos - start;
  const end = c.pos + len;
  if (end > sectionEnd) c.fail(`unit at ${start} runs past the section end`);
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
    if (unitType === 2 || unitType === 6) c.skip(8 + osz); // type signature, type offset
    else if (unitType === 4 || unitType === 5) c.skip(8); // dwo id
    else if (unitType !== 1 && unitType !== 3) c.fail(`unknown unit type ${unitType}`);
  } else {
    abbrevField = c.pos;
    c.skip(osz);
    addrSize = c.u8();
    if (types) c.skip(8 + osz);
  }
  return { start, end, lengthFieldSize, version, abbrevField, sizes: { offset: osz, addr: addrSize, refAddr: version === 2 ? addrSize : osz } };
}
