// The zstd layer of compact execution logs: the frames of a Source, decompressed in order into
// a Sink (read-log.ts splits the ExecLogEntry messages out of it as it comes).
import type { Sink, Source } from '../types.js';

/** Thrown while this build has no zstd decoder: says how to get past it. */
export class NoZstdDecoder extends Error {
  constructor() {
    super('this detnorm has no zstd decoder: decompress the log first (zstd -d LOG -o LOG.raw) and give LOG.raw');
  }
}

export async function zstdStream(_input: Source, _sink: Sink): Promise<void> {
  throw new NoZstdDecoder();
}
