// The zstd decoder for compact execution logs. The seam: a compact log is a zstd frame around
// the ExecLogEntry stream (read-log.ts); this module turns the frame into the stream.
export function decompressZstd(_compressed: Uint8Array): Uint8Array {
  throw new Error('this detnorm has no zstd decoder yet: decompress the log first (zstd -d LOG -o LOG.raw) and give LOG.raw');
}
