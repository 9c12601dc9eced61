// .debug_abbrev (DWARF 2-5, section 7.5.3): abbreviation declarations, parsed once per table
// offset into flat arrays the DIE walker reads.
import { Cursor } from './cursor.js';

export const DW_FORM_implicit_const = 0x21;

export interface Abbrev {
  readonly tag: number;
  readonly children: boolean;
  readonly attrs: number[];
  readonly forms: number[];
}

export type AbbrevTable = Map<number, Abbrev>;

export function parseAbbrevTable(b: Uint8Array, offset: number, le: boolean): AbbrevTable {
  const c = new Cursor(b, le, offset, b.length, '.debug_abbrev');
  if (offset >= b.length) c.fail('abbreviation table offset outside the section');
  const table: AbbrevTable = new Map();
  for (;;) {
    const code = c.uleb();
    if (code === 0) break;
    const tag = c.uleb();
    const children = c.u8() !== 0;
    const attrs: number[] = [];
    const forms: number[] = [];
    for (;;) {
      const at = c.uleb();
      const form = c.uleb();
      if (at === 0 && form === 0) break;
      if (form === DW_FORM_implicit_const) c.sleb();
      attrs.push(at);
      forms.push(form);
    }
    if (table.has(code)) c.fail(`duplicate abbreviation code ${code}`);
    table.set(code, { tag, children, attrs, forms });
  }
  return table;
}

/** Abbreviation tables of one section, parsed on first use. */
export class AbbrevCache {
  private readonly tables = new Map<number, AbbrevTable>();
  constructor(
    private readonly b: Uint8Array,
    private readonly le: boolean,
  ) {}
  get(offset: number): AbbrevTable {
    let t = this.tables.get(offset);
    if (!t) {
      t = parseAbbrevTable(this.b, offset, this.le);
      this.tables.set(offset, t);
    }
    return t;
  }
}
