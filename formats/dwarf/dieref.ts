// References to DIEs, needed only when a .debug_info unit changes length (an inline path
// string mapped to one of another length): CU-relative references (DW_FORM_ref1..8,
// ref_udata), section offsets (DW_FORM_ref_addr), the DIE operands of DWARF expressions
// (DW_OP_call2/4/call_ref, implicit_pointer, convert, const_type, regval_type, deref_type,
// GNU_parameter_ref, GNU_variable_value; DWARF 5 section 2.5) in attributes and in version 2-4
// location lists (.debug_loc, section 2.6.2), and the unit offsets and DIE offsets of
// .debug_aranges and .debug_pubnames/pubtypes (and their GNU variants).
import type { AbbrevTable } from './abbrev.js';
import { Cursor } from './cursor.js';
import { readUnitHeader, resolveIndirect, skipForm } from './forms.js';

/** A field holding a DIE reference. */
export interface DieRef {
  readonly at: number;
  /** Field size in bytes; for a ULEB128, its encoded length and `uleb` set. */
  readonly size: number;
  readonly uleb?: boolean;
  /** Start of the unit a CU-relative value is relative to; undefined for section offsets. */
  readonly cu?: number;
}

export class DieRefs {
  readonly refs: DieRef[] = [];
  /** Offsets of .debug_loc lists, with the unit whose DIEs their expressions may name. */
  readonly locLists: Array<{ offset: number; cu: number; addrSize: number; osz: number; refAddr: number; field: number; fieldSize: number }> = [];
  /** Why a rewrite cannot be done safely (DWARF 5 location lists, unknown operators). */
  unsupported?: string;
}

// Attributes whose block or offset value is a location description or list (DWARF 2-4).
const LOCATION_ATTRS = new Set([0x02, 0x19, 0x2a, 0x2e, 0x38, 0x40, 0x48, 0x4a, 0x4d]);

/** Walk one DWARF expression of `len` bytes at c.pos, recording DIE operands. */
export function walkExpr(c: Cursor, len: number, cu: number, addrSize: number, refAddr: number, osz: number, out: DieRefs): void {
  const end = c.pos + len;
  if (end > c.end) c.fail('expression runs past its container');
  const uleb = () => {
    const at = c.pos;
    c.uleb();
    return { at, size: c.pos - at };
  };
  while (c.pos < end) {
    const op = c.u8();
    if ((op >= 0x30 && op <= 0x6f) || op === 0x06 || (op >= 0x12 && op <= 0x14) || (op >= 0x16 && op <= 0x22) || (op >= 0x24 && op <= 0x27) || (op >= 0x29 && op <= 0x2e)) continue;
    if (op >= 0x70 && op <= 0x8f) {
      c.sleb();
      continue;
    }
    switch (op) {
      case 0x03:
        c.skip(addrSize);
        break;
      case 0x08:
      case 0x09:
      case 0x15:
      case 0x94:
      case 0x95:
        c.skip(1);
        break;
      case 0x0a:
      case 0x0b:
      case 0x28:
      case 0x2f:
        c.skip(2);
        break;
      case 0x0c:
      case 0x0d:
        c.skip(4);
        break;
      case 0x0e:
      case 0x0f:
        c.skip(8);
        break;
      case 0x10:
      case 0x23:
      case 0x90:
      case 0x93:
      case 0xa1:
      case 0xa2:
      case 0xfb:
      case 0xfc:
        c.uleb();
        break;
      case 0x11:
      case 0x91:
        c.sleb();
        break;
      case 0x92:
        c.uleb();
        c.sleb();
        break;
      case 0x9d:
        c.uleb();
        c.uleb();
        break;
      case 0x96:
      case 0x97:
      case 0x9b:
      case 0x9c:
      case 0x9f:
      case 0xe0:
        break;
      case 0x9e:
        c.skip(c.uleb());
        break;
      case 0x98:
        out.refs.push({ at: c.pos, size: 2, cu });
        c.skip(2);
        break;
      case 0x99:
      case 0xfa:
        out.refs.push({ at: c.pos, size: 4, cu });
        c.skip(4);
        break;
      case 0x9a:
      case 0xfd:
        out.refs.push({ at: c.pos, size: refAddr });
        c.skip(refAddr);
        break;
      case 0xa0:
      case 0xf2:
        out.refs.push({ at: c.pos, size: refAddr });
        c.skip(refAddr);
        c.sleb();
        break;
      case 0xa3:
      case 0xf3: {
        const n = c.uleb();
        walkExpr(c, n, cu, addrSize, refAddr, osz, out);
        break;
      }
      case 0xa4:
      case 0xf4: {
        const r = uleb();
        out.refs.push({ ...r, uleb: true, cu });
        c.skip(c.u8());
        break;
      }
      case 0xa5:
      case 0xf5: {
        c.uleb();
        const r = uleb();
        out.refs.push({ ...r, uleb: true, cu });
        break;
      }
      case 0xa6:
      case 0xf6:
      case 0xa7: {
        c.skip(1);
        const r = uleb();
        out.refs.push({ ...r, uleb: true, cu });
        break;
      }
      case 0xa8:
      case 0xf7:
      case 0xa9:
      case 0xf9: {
        const r = uleb();
        out.refs.push({ ...r, uleb: true, cu });
        break;
      }
      default:
        out.unsupported ??= `DWARF operator 0x${op.toString(16)} in an expression`;
        c.pos = end;
    }
  }
  if (c.pos !== end) c.fail('expression operand runs past its end');
}

export function walkInfoDieRefs(b: Uint8Array, le: boolean, name: string, abbrevAt: (fieldOffset: number, size: number) => AbbrevTable, out: DieRefs): void {
  const c = new Cursor(b, le, 0, b.length, name);
  while (c.pos < b.length) {
    const { start, end, version, sizes, abbrevField } = readUnitHeader(c, b.length, false);
    const { offset: osz, addr: addrSize, refAddr } = sizes;
    const abbrevs = abbrevAt(abbrevField, osz);
    while (c.pos < end) {
      const code = c.uleb();
      if (code === 0) continue;
      const ab = abbrevs.get(code);
      if (!ab) throw c.fail(`unknown abbreviation code ${code}`);
      for (let i = 0; i < ab.forms.length; i++) {
        const form = resolveIndirect(c, ab.forms[i]!);
        const attr = ab.attrs[i]!;
        const isLoc = LOCATION_ATTRS.has(attr);
        switch (form) {
          case 0x11:
          case 0x12:
          case 0x13:
          case 0x14: {
            const size = form === 0x11 ? 1 : form === 0x12 ? 2 : form === 0x13 ? 4 : 8;
            out.refs.push({ at: c.pos, size, cu: start });
            c.skip(size);
            break;
          }
          case 0x15: {
            const at = c.pos;
            c.uleb();
            out.refs.push({ at, size: c.pos - at, uleb: true, cu: start });
            break;
          }
          case 0x10:
            out.refs.push({ at: c.pos, size: refAddr });
            c.skip(refAddr);
            break;
          case 0x18: {
            const n = c.uleb();
            walkExpr(c, n, start, addrSize, refAddr, osz, out);
            break;
          }
          case 0x09:
          case 0x0a:
          case 0x03:
          case 0x04: {
            const n = form === 0x09 ? c.uleb() : form === 0x0a ? c.u8() : form === 0x03 ? c.u16() : c.u32();
            if (isLoc && version <= 3) walkExpr(c, n, start, addrSize, refAddr, osz, out);
            else c.skip(n);
            break;
          }
          case 0x06:
          case 0x07:
          case 0x17: {
            const size = form === 0x06 ? 4 : form === 0x07 ? 8 : osz;
            const field = c.pos;
            const v = c.uN(size);
            if (isLoc && (form === 0x17 || version <= 3)) {
              if (version >= 5) out.unsupported ??= 'DWARF 5 location lists in a unit that changes length';
              else out.locLists.push({ offset: v, cu: start, addrSize, osz, refAddr, field, fieldSize: size });
            }
            break;
          }
          case 0x22:
            c.uleb();
            if (isLoc) out.unsupported ??= 'DWARF 5 location lists in a unit that changes length';
            break;
          default:
            skipForm(c, form, sizes, 'an attribute');
        }
      }
    }
    c.pos = end;
  }
}

/** DIE operands of the expressions of one version 2-4 location list in .debug_loc. */
export function walkLocList(b: Uint8Array, le: boolean, list: DieRefs['locLists'][number], out: DieRefs): void {
  const c = new Cursor(b, le, list.offset, b.length, '.debug_loc');
  const max = list.addrSize === 8 ? Number.MAX_SAFE_INTEGER : 0xffffffff;
  for (;;) {
    const lo = list.addrSize === 8 ? readAddr64(c) : c.u32();
    const hi = list.addrSize === 8 ? readAddr64(c) : c.u32();
    if (lo === 0 && hi === 0) return;
    if (lo === max) continue; // base address selection
    const n = c.u16();
    walkExpr(c, n, list.cu, list.addrSize, list.refAddr, list.osz, out);
  }
}

/** A 64-bit address; all-ones (base address selection) comes back as MAX_SAFE_INTEGER. */
function readAddr64(c: Cursor): number {
  const a = c.u32();
  const b = c.u32();
  if (a === 0xffffffff && b === 0xffffffff) return Number.MAX_SAFE_INTEGER;
  return (c.le ? b : a) * 0x100000000 + (c.le ? a : b);
}

/** .debug_aranges: each set's debug_info_offset. */
export function walkAranges(b: Uint8Array, le: boolean, out: DieRefs): void {
  const c = new Cursor(b, le, 0, b.length, '.debug_aranges');
  while (c.pos < b.length) {
    c.end = b.length;
    const [len, osz] = c.initialLength();
    const end = c.pos + len;
    if (end > b.length) c.fail('set runs past the section end');
    c.skip(2);
    out.refs.push({ at: c.pos, size: osz });
    c.pos = end;
  }
}

/** .debug_pubnames/pubtypes (and GNU variants, `gnu` = one flag byte per entry). */
export function walkPubnames(b: Uint8Array, le: boolean, gnu: boolean, name: string, out: DieRefs, lengths: Array<{ at: number; size: number; cuField: number }>): void {
  const c = new Cursor(b, le, 0, b.length, name);
  while (c.pos < b.length) {
    c.end = b.length;
    const [len, osz] = c.initialLength();
    const end = c.pos + len;
    if (end > b.length) c.fail('set runs past the section end');
    c.end = end;
    c.skip(2);
    const cuField = c.pos;
    out.refs.push({ at: c.pos, size: osz });
    const cu = c.uN(osz);
    lengths.push({ at: c.pos, size: osz, cuField });
    c.skip(osz);
    for (;;) {
      const at = c.pos;
      const off = c.uN(osz);
      if (off === 0) break;
      out.refs.push({ at, size: osz, cu });
      if (gnu) c.skip(1);
      c.cstr();
    }
    c.pos = end;
  }
}
