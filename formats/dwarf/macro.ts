// .debug_macro (DWARF 5 section 6.3, and the GNU version 4 extension gcc writes for
// -gdwarf-4 -g3): records DW_MACRO_define_strp/undef_strp offsets into .debug_str and the
// header's offset into .debug_line. Macro text is never mapped: -ffile-prefix-map does not
// rewrite -D values either, so a mapped build and a prefix-mapped build keep the same text.
import { Cursor } from './cursor.js';
import { skipForm } from './forms.js';
import type { Refs } from './info.js';

export function walkMacro(b: Uint8Array, le: boolean, name: string, out: Refs): void {
  const c = new Cursor(b, le, 0, b.length, name);
  while (c.pos < b.length) {
    const version = c.u16();
    if (version !== 4 && version !== 5) c.fail(`unsupported macro version ${version}`);
    const flags = c.u8();
    const osz = flags & 1 ? 8 : 4;
    if (flags & 2) {
      out.line.push(c.pos);
      out.lineSize.push(osz);
      c.skip(osz);
    }
    const table = new Map<number, number[]>();
    if (flags & 4) {
      const n = c.u8();
      for (let i = 0; i < n; i++) {
        const op = c.u8();
        const count = c.uleb();
        const forms: number[] = [];
        for (let j = 0; j < count; j++) forms.push(c.u8());
        table.set(op, forms);
      }
    }
    for (;;) {
      const op = c.u8();
      if (op === 0) break;
      switch (op) {
        case 0x01:
        case 0x02:
          c.skipLeb();
          c.cstr();
          break;
        case 0x03:
          c.skipLeb();
          c.skipLeb();
          break;
        case 0x04:
          break;
        case 0x05:
        case 0x06:
          c.skipLeb();
          out.str.push(c.pos);
          out.strSize.push(osz);
          c.skip(osz);
          break;
        case 0x07:
        case 0x0a:
          c.skip(osz);
          break;
        case 0x08:
        case 0x09:
          c.skipLeb();
          c.skip(osz);
          break;
        case 0x0b:
        case 0x0c:
          c.skipLeb();
          c.skipLeb();
          break;
        default: {
          const forms = table.get(op);
          if (!forms) throw c.fail(`unknown macro opcode 0x${op.toString(16)}`);
          for (const f of forms) skipMacroForm(c, f, osz, name);
        }
      }
    }
  }
}

function skipMacroForm(c: Cursor, form: number, osz: number, name: string): void {
  // strp-like forms in vendor opcodes would point into .debug_str without our knowing.
  if (form === 0x0e || form === 0x1f || form === 0x1d || form === 0x1f21) c.fail(`unsupported form 0x${form.toString(16)} in a ${name} opcode`);
  skipForm(c, form, { offset: osz }, `a ${name} opcode`);
}
