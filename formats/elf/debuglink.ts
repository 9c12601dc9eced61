// .gnu_debuglink of an ELF binary: the rule is formats/debuglink.ts's (the CRC of the debug file
// as detnorm normalizes it, whatever the order of work); this module gives its ELF pairing test.
// objcopy --only-keep-debug (and strip --only-keep-debug, eu-strip -f) keep every section header
// of the binary: the loaded (SHF_ALLOC) sections with the same names, addresses and sizes, most
// of them as SHT_NOBITS, the notes (the build-id among them) with their contents. Normalizing
// changes none of that, in the binary or in the debug file.
import { FormatError } from '../../src/types.js';
import type { PairCheck } from '../debuglink.js';
import { SHF_ALLOC, SHT_NOBITS, parseElf, rawSection, type Elf, type Section } from './elf.js';

export { parseDebugLink, updateDebugLink, type DebugLink } from '../debuglink.js';

function loaded(elf: Elf): Map<string, Section> {
  const out = new Map<string, Section>();
  for (const s of elf.sections) {
    if (!(s.flags & SHF_ALLOC)) continue;
    let k = s.name || `#${s.index}`;
    for (let i = 2; out.has(k); i++) k = `${s.name}#${i}`;
    out.set(k, s);
  }
  return out;
}

/** Whether a (normalized) debug file is this binary's: same machine, same loaded sections. */
export function elfPairCheck(exe: Elf): PairCheck {
  return (bytes) => {
    let dbg: Elf;
    try {
      dbg = parseElf(bytes);
    } catch (e) {
      if (e instanceof FormatError || e instanceof RangeError) return `not an ELF file (${e.message})`;
      throw e;
    }
    const [x, y] = [exe.header, dbg.header];
    if (x.is64 !== y.is64 || x.le !== y.le || x.machine !== y.machine) return 'another ELF class, byte order or machine';
    const [lx, ly] = [loaded(exe), loaded(dbg)];
    for (const k of new Set([...lx.keys(), ...ly.keys()])) {
      const [a, b] = [lx.get(k), ly.get(k)];
      if (!a || !b) return `loaded section ${k} only in ${a ? 'the binary' : 'the debug file'}`;
      if (a.addr !== b.addr || a.size !== b.size) return `loaded section ${k} at another address or of another size`;
      if (a.type !== SHT_NOBITS && b.type !== SHT_NOBITS && !Buffer.from(rawSection(exe, a)).equals(rawSection(dbg, b))) return `loaded section ${k} differs (a build-id note, or another build)`;
    }
    return undefined;
  };
}
