// --map-path for co_filename (DESIGN.md section 3, Paths): the longest OLD that is a prefix of
// the path at a component boundary is replaced by NEW. The new string keeps interned-ness and
// takes the marshal variant CPython would give it (short ASCII z/Z under 256 bytes, ASCII a/A
// above, UTF-8 u/t when not ASCII), so the result equals a compile in the NEW directory.
import { T } from './marshal-read.js';

export { mapPath } from '../../src/map-path.js';

const INTERNED: ReadonlySet<number> = new Set([T.SHORT_ASCII_INTERNED, T.ASCII_INTERNED, T.INTERNED]);
const STR_TYPES: ReadonlySet<number> = new Set([
  T.SHORT_ASCII, T.SHORT_ASCII_INTERNED, T.ASCII, T.ASCII_INTERNED, T.UNICODE, T.INTERNED,
]);

/** True for the marshal types that hold a Python str (not bytes). */
export function isStrType(t: number): boolean {
  return STR_TYPES.has(t);
}

/** The type code CPython's marshal uses for this str content, keeping interned-ness of `old`. */
export function strVariant(old: number, utf8: Uint8Array): number {
  const interned = INTERNED.has(old);
  let ascii = true;
  for (let i = 0; i < utf8.length; i++) {
    if (utf8[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) return interned ? T.INTERNED : T.UNICODE;
  if (utf8.length < 256) return interned ? T.SHORT_ASCII_INTERNED : T.SHORT_ASCII;
  return interned ? T.ASCII_INTERNED : T.ASCII;
}
