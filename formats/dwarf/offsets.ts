// Sections that are arrays of .debug_str offsets: .debug_str_offsets (DWARF 5 section 7.26;
// the GNU split-DWARF form without a header is a bare array of 4-byte offsets) and the
// string-offset array of each .debug_names index (DWARF 5 section 6.1.1.4.1). Every entry is
// a reference of its own, so strx forms never need resolving.
import { Cursor } from './cursor.js';
import type { Refs } from './info.js';

export function walkStrOffsets(b: Uint8Array, le: boolean, name: string, out: Refs): void {
  const c = new Cursor(b, le, 0, b.length, name);
  // A DWARF 5 contribution starts with a length and version 5; anything else is the GNU form.
  const looksV5 = b.length >= 8 && (() => {
    const probe = new Cursor(b, le, 0, b.length, name);
    const [len] = probe.initialLength();
    return probe.pos + len <= b.length && probe.u16() === 5;
  })();
  if (!looksV5) {
    if (b.length % 4 !== 0) c.fail('size is not a multiple of 4');
    for (let p = 0; p < b.length; p += 4) {
      out.str.push(p);
      out.strSize.push(4);
    }
    return;
  }
  while (c.pos < b.length) {
    c.end = b.length;
    const [len, osz] = c.initialLength();
    const end = c.pos + len;
    if (end > b.length) c.fail('contribution runs past the section end');
    c.end = end;
    if (c.u16() !== 5) c.fail('unsupported version');
    c.skip(2);
    if ((end - c.pos) % osz !== 0) c.fail('contribution is not a whole number of offsets');
    for (; c.pos < end; c.pos += osz) {
      out.str.push(c.pos);
      out.strSize.push(osz);
    }
  }
}

export function walkNames(b: Uint8Array, le: boolean, name: string, out: Refs): void {
  const c = new Cursor(b, le, 0, b.length, name);
  while (c.pos < b.length) {
    c.end = b.length;
    const [len, osz] = c.initialLength();
    const end = c.pos + len;
    if (end > b.length) c.fail('index runs past the section end');
    c.end = end;
    if (c.u16() !== 5) c.fail('unsupported version');
    c.skip(2);
    const cuCount = c.u32();
    const localTu = c.u32();
    const foreignTu = c.u32();
    const buckets = c.u32();
    const names = c.u32();
    c.u32(); // abbrev_table_size
    const augSize = c.u32();
    c.skip(augSize);
    c.skip(cuCount * osz);
    c.skip(localTu * osz);
    c.skip(foreignTu * 8);
    c.skip(buckets * 4);
    if (buckets > 0) c.skip(names * 4);
    c.need(names * osz);
    for (let i = 0; i < names; i++) {
      out.str.push(c.pos);
      out.strSize.push(osz);
      c.pos += osz;
    }
    c.pos = end;
  }
}
