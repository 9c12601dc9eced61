// .debug_line headers (DWARF 2-5, section 6.2.4): the include-directory and file-name tables
// of versions 2-4 (inline strings) and the entry formats of version 5 (strings inline or as
// DW_FORM_line_strp / strp offsets). The line-number program itself holds no strings we map
// (DW_LNE_define_file is obsolete and not produced by current compilers) and is copied as is.
import { Cursor } from './cursor.js';
import { skipForm, type FormSizes } from './forms.js';
import type { Refs } from './info.js';

export interface LineUnit {
  readonly start: number;
  readonly end: number;
  /** Offset and size of the unit_length value (after the 0xffffffff escape for 64-bit DWARF). */
  readonly lengthAt: number;
  readonly offsetSize: number;
  /** Offset of header_length; the header ends at headerLengthAt + offsetSize + header_length. */
  readonly headerLengthAt: number;
  readonly headerEnd: number;
}

/** One value of a v5 directory or file entry: strings recorded, every other form skipped. */
function entryValue(c: Cursor, form: number, sizes: FormSizes, out: Refs, what: string): void {
  switch (form) {
    case 0x08: {
      // string
      const [s, e] = c.cstr();
      out.inline.push(s, e);
      return;
    }
    case 0x1f: // line_strp
      out.lineStr.push(c.pos);
      out.lineStrSize.push(sizes.offset);
      c.skip(sizes.offset);
      return;
    case 0x0e: // strp
      out.str.push(c.pos);
      out.strSize.push(sizes.offset);
      c.skip(sizes.offset);
      return;
    default:
      skipForm(c, form, sizes, what);
  }
}

function entryTable(c: Cursor, sizes: FormSizes, out: Refs, what: string): void {
  const formatCount = c.u8();
  const forms: number[] = [];
  for (let i = 0; i < formatCount; i++) {
    c.uleb(); // content type
    forms.push(c.uleb());
  }
  const count = c.uleb();
  if (count > 0 && formatCount === 0) c.fail(`${what} without entry formats`);
  // Bounded by the bytes: an entry takes at least one (forms of no size, flag_present or
  // implicit_const alone, would otherwise let a huge count loop on nothing).
  if (count > c.end - c.pos) c.fail(`${what} declares ${count} entries in ${c.end - c.pos} bytes`);
  for (let i = 0; i < count; i++) for (const f of forms) entryValue(c, f, sizes, out, what);
}

/** Parse every unit header of `.debug_line`, recording string places in `out`. */
export function walkLine(b: Uint8Array, le: boolean, name: string, out: Refs): LineUnit[] {
  const c = new Cursor(b, le, 0, b.length, name);
  const units: LineUnit[] = [];
  while (c.pos < b.length) {
    const start = c.pos;
    c.end = b.length;
    const [len, osz] = c.initialLength();
    const lengthAt = c.pos - osz;
    const end = c.pos + len;
    if (end > b.length) c.fail(`line unit at ${start} runs past the section end`);
    c.end = end;
    const version = c.u16();
    if (version < 2 || version > 5) c.fail(`unsupported line table version ${version}`);
    let addr: number | undefined;
    if (version >= 5) {
      addr = c.u8();
      c.skip(1); // segment_selector_size
    }
    const headerLengthAt = c.pos;
    const headerLength = c.uN(osz);
    const headerEnd = c.pos + headerLength;
    if (headerEnd > end) c.fail(`line header of unit at ${start} runs past the unit`);
    c.end = headerEnd;
    c.skip(version >= 4 ? 2 : 1); // minimum_instruction_length, maximum_operations_per_instruction
    c.skip(3); // default_is_stmt, line_base, line_range
    const opcodeBase = c.u8();
    c.skip(Math.max(0, opcodeBase - 1));
    if (version >= 5) {
      const sizes: FormSizes = addr === undefined ? { offset: osz } : { offset: osz, addr };
      entryTable(c, sizes, out, 'directory table');
      entryTable(c, sizes, out, 'file name table');
    } else {
      for (;;) {
        const [s, e] = c.cstr();
        if (s === e) break;
        out.inline.push(s, e);
      }
      for (;;) {
        const [s, e] = c.cstr();
        if (s === e) break;
        out.inline.push(s, e);
        c.skipLeb();
        c.skipLeb();
        c.skipLeb();
      }
    }
    units.push({ start, end, lengthAt, offsetSize: osz, headerLengthAt, headerEnd });
    c.pos = end;
  }
  return units;
}
