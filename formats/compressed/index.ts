// The payload codecs by name, and where a compressed segment ends (for containers that hold
// several segments back to back: an initramfs is cpio archives and compressed cpio archives,
// concatenated, as the kernel's unpack_to_rootfs reads them).
import type { Context, Sink, Source } from '../../src/types.js';
import { gzipCodec } from '../gzip.js';
import { bzip2Codec } from './bzip2.js';
import { lz4Codec } from './lz4.js';
import type { PayloadCodec } from './payload.js';
import { xzCodec } from './xz.js';
import { zstdCodec } from './zstd.js';

export const PAYLOAD_CODECS: readonly PayloadCodec<unknown>[] = [gzipCodec, xzCodec, zstdCodec, bzip2Codec, lz4Codec] as PayloadCodec<unknown>[];

/** The codec whose magic starts `head`, if any. */
export function codecFor(head: Uint8Array): PayloadCodec<unknown> | undefined {
  return PAYLOAD_CODECS.find((c) => c.detect(head));
}

/** A sink that keeps nothing: decoding only to find where the streams end. */
function discard(): Sink {
  let length = 0;
  return {
    get length() {
      return length;
    },
    async write(chunk) {
      length += chunk.length;
    },
  };
}

/**
 * Offset just past the compressed streams of `codec` that start at the beginning of `input`
 * (decoded and verified, the payload discarded), or the reason they cannot be read.
 */
export async function compressedExtent(codec: PayloadCodec<unknown>, input: Source, ctx: Context): Promise<number | { untouched: string }> {
  const parsed = await codec.parse(input, { ...ctx, notice: () => {} }, discard());
  return 'untouched' in parsed ? parsed : parsed.end;
}
