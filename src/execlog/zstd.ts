// The zstd layer of compact execution logs: the frames of a Source, decompressed in order into
// a Sink (read-log.ts splits the ExecLogEntry messages out of it as it comes). The decoder is
// the vendored zstd 1.5.4 WebAssembly module (src/codecs/zstd.ts); skippable frames are skipped.
import { decodeZstdFrame, isSkippableMagic, skippableEnd } from '../codecs/zstd.js';
import { DEFAULT_LIMITS, type Limits, type Sink, type Source } from '../types.js';

/**
 * A log is a build's own record, not an artifact: the expansion limit that guards against
 * bombs is set high (a compact log of small repeated records compresses far better than an
 * artifact), while the per-member size limit still holds.
 */
const LOG_LIMITS: Limits = { ...DEFAULT_LIMITS, maxRatio: 1_000_000 };

export async function zstdStream(input: Source, sink: Sink): Promise<void> {
  let pos = 0;
  while (pos < input.size) {
    const head = await input.read(pos, Math.min(4, input.size - pos));
    if (isSkippableMagic(head)) pos = await skippableEnd(input, pos);
    else pos = (await decodeZstdFrame(input, pos, sink, LOG_LIMITS, `zstd frame at offset ${pos}`)).end;
  }
}
