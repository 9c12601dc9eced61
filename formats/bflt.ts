// bFLT, the uClinux flat binary (elf2flt's flat.h, header revision 4: 64 bytes, big-endian).
// Canonicalizes `build_date` (offset 40): T (clamp honoured), 0 ("no date") without T. The
// header has no checksum; the rest of the file is copied byte for byte. A header that does not
// look like one elf2flt writes (strip-nondeterminism's plausibility checks) is a FormatError;
// revisions other than 4 carry no build date and are left untouched.
import { copyRange } from '../src/io.js';
import { canonicalTime } from '../src/time.js';
import { FormatError, type Context, type Handler, type HandlerResult, type Probe, type Sink, type Source } from '../src/types.js';

const MAGIC = 0x62464c54; // "bFLT"
const HEADER = 64;
const BUILD_DATE = 40;
const MAX_OFFSET = 0xfffffff;
const RESERVED_FLAGS = 0xffffffc0;

/** Why a revision-4 header is implausible, or undefined when it looks right. */
export function implausible(h: DataView): string | undefined {
  const [entry, dataStart, dataEnd, bssEnd, stack, relocStart, relocCount, flags] = [8, 12, 16, 20, 24, 28, 32, 36].map((o) => h.getUint32(o));
  if ([entry, dataStart, dataEnd, bssEnd, relocStart].some((v) => v! >= MAX_OFFSET)) return 'segment offset out of range';
  if (stack! >= 0xffffff || relocCount! >= 0xffffff) return 'stack size or relocation count out of range';
  if ((flags! & RESERVED_FLAGS) !== 0) return `reserved flags set (0x${flags!.toString(16)})`;
  for (let o = 44; o < 64; o += 4) if (h.getUint32(o) !== 0) return `filler at ${o} is not zero`;
  return undefined;
}

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  if (input.size < HEADER) throw new FormatError(`truncated bFLT header (${input.size} bytes)`);
  const head = Uint8Array.from(await input.read(0, HEADER));
  const h = new DataView(head.buffer);
  if (h.getUint32(0) !== MAGIC) throw new FormatError('not a bFLT file (bad magic)');
  const rev = h.getUint32(4);
  if (rev !== 4) return { status: 'untouched', reason: `bFLT revision ${rev} has no build date` };
  const bad = implausible(h);
  if (bad) throw new FormatError(`implausible bFLT header: ${bad}`);
  const old = h.getUint32(BUILD_DATE);
  const t = canonicalTime(ctx.options, old, 0);
  if (t < 0 || t > 0xffffffff) throw new FormatError(`T ${t} does not fit the 32-bit build date`);
  h.setUint32(BUILD_DATE, t);
  await output.write(head);
  await copyRange(input, HEADER, input.size - HEADER, output);
  return { status: 'normalized', changes: t === old ? [] : [{ kind: 'timestamp', what: `build_date ${old} -> ${t}` }] };
}

export const bfltHandler: Handler = {
  name: 'bflt',
  description: 'uClinux bFLT executables: header build date set to T',
  extensions: ['.bflt'],
  detect(probe: Probe): boolean {
    return probe.size >= HEADER && new DataView(probe.head.buffer, probe.head.byteOffset, 4).getUint32(0) === MAGIC;
  },
  normalize,
};
