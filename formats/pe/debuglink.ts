// .gnu_debuglink of a PE image (mingw: objcopy --only-keep-debug, then --strip-debug
// --add-gnu-debuglink): the rule is formats/debuglink.ts's; this module gives its PE pairing test.
// The debug file keeps the image's headers and section table: the loaded sections with the same
// names, addresses and sizes (without their data), the same machine, ImageBase and entry point.
// Normalizing changes none of that (loaded sections never move), in the image or the debug file.
// Debug sections and .gnu_debuglink itself are not compared: strip removes the former and
// objcopy puts the latter where the debug file has DWARF.
import { FormatError } from '../../src/types.js';
import type { PairCheck } from '../debuglink.js';
import { u32 } from './coff.js';
import { parseImage, type PeImage } from './image.js';

const isDebug = (n: string) => n.startsWith('.debug_') || n.startsWith('.zdebug_') || n === '.gnu_debuglink';

function loaded(img: PeImage): Map<string, { va: number; size: number }> {
  const out = new Map<string, { va: number; size: number }>();
  for (const s of img.coff.sections) {
    if (isDebug(s.name)) continue;
    let k = s.name;
    for (let i = 2; out.has(k); i++) k = `${s.name}#${i}`;
    out.set(k, { va: s.virtualAddress, size: s.virtualSize || s.rawSize });
  }
  return out;
}

/** ImageBase (PE32: 4 bytes at 28; PE32+: 8 bytes at 24) and AddressOfEntryPoint, as text. */
function identity(img: PeImage): string {
  const b = img.bytes;
  const base = img.pe32plus ? `${u32(b, img.optAt + 28).toString(16)}:${u32(b, img.optAt + 24).toString(16)}` : u32(b, img.optAt + 28).toString(16);
  return `${img.coff.header.machine}/${img.pe32plus ? 'PE32+' : 'PE32'}/${base}/${u32(b, img.optAt + 16).toString(16)}`;
}

/** Whether a (normalized) debug file is this image's: same machine, base, entry and loaded sections. */
export function pePairCheck(exe: PeImage): PairCheck {
  return (bytes) => {
    let dbg: PeImage;
    try {
      dbg = parseImage(bytes);
    } catch (e) {
      if (e instanceof FormatError || e instanceof RangeError) return `not a PE image (${e.message})`;
      throw e;
    }
    if (identity(exe) !== identity(dbg)) return 'another machine, ImageBase or entry point';
    const [lx, ly] = [loaded(exe), loaded(dbg)];
    for (const k of new Set([...lx.keys(), ...ly.keys()])) {
      const [a, b] = [lx.get(k), ly.get(k)];
      if (!a || !b) return `section ${k} only in ${a ? 'the image' : 'the debug file'}`;
      if (a.va !== b.va || a.size !== b.size) return `section ${k} at another address or of another size`;
    }
    return undefined;
  };
}
