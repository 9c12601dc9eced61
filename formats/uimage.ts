// U-Boot legacy images, uImage (U-Boot include/image.h `image_header_t`: 64 bytes, big-endian;
// what `mkimage` writes). Canonicalizes `ih_time` (offset 8): T (clamp honoured), 0 ("no
// time") without T, and recomputes the header CRC `ih_hcrc` (offset 4: CRC-32 of the header
// with that field zeroed). The payload and its CRC `ih_dcrc` are copied untouched. A header
// whose CRC was already wrong is left untouched (like strip-nondeterminism): making it valid
// would bless a corrupt header, keeping it wrong would make a change U-Boot cannot check.
import { crc32 } from './crc32.js';
import { copyRange } from '../src/io.js';
import { canonicalTime } from '../src/time.js';
import { FormatError, type Context, type Handler, type HandlerResult, type Probe, type Sink, type Source } from '../src/types.js';

export const IH_MAGIC = 0x27051956;
const HEADER = 64;

/** CRC-32 of a 64-byte header with its ih_hcrc field taken as zero. */
export function headerCrc(head: Uint8Array): number {
  const copy = Uint8Array.from(head.subarray(0, HEADER));
  copy.fill(0, 4, 8);
  return crc32(copy);
}

async function normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
  if (input.size < HEADER) throw new FormatError(`truncated uImage header (${input.size} bytes)`);
  const head = Uint8Array.from(await input.read(0, HEADER));
  const h = new DataView(head.buffer);
  if (h.getUint32(0) !== IH_MAGIC) throw new FormatError('not a uImage (bad magic)');
  const size = h.getUint32(12);
  if (size > input.size - HEADER) throw new FormatError(`image data size ${size} runs past the end of the file (${input.size} bytes)`);
  if (headerCrc(head) !== h.getUint32(4)) return { status: 'untouched', reason: 'header CRC does not match: header left as it is' };
  const old = h.getUint32(8);
  const t = canonicalTime(ctx.options, old, 0);
  if (t < 0 || t > 0xffffffff) throw new FormatError(`T ${t} does not fit the 32-bit image time`);
  h.setUint32(8, t);
  h.setUint32(4, headerCrc(head));
  await output.write(head);
  await copyRange(input, HEADER, input.size - HEADER, output);
  return { status: 'normalized', changes: t === old ? [] : [{ kind: 'timestamp', what: `ih_time ${old} -> ${t} (header CRC recomputed)` }] };
}

export const uimageHandler: Handler = {
  name: 'uimage',
  description: 'U-Boot legacy uImage: header time set to T, header CRC recomputed',
  extensions: ['.uimage'],
  detect(probe: Probe): boolean {
    return probe.size >= HEADER && new DataView(probe.head.buffer, probe.head.byteOffset, 4).getUint32(0) === IH_MAGIC;
  },
  normalize,
};
