// Types for the two low-level pako 2.1.0 modules the zip probe uses (pako ships none for them).
declare module 'pako/lib/zlib/zstream.js' {
  const ZStream: new () => {
    input: Uint8Array | null;
    next_in: number;
    avail_in: number;
    output: Uint8Array | null;
    next_out: number;
    avail_out: number;
  };
  export default ZStream;
}
declare module 'pako/lib/zlib/inflate.js' {
  const inflate: {
    inflateInit2(strm: unknown, windowBits: number): number;
    inflateReset(strm: unknown): number;
    inflate(strm: unknown, flush: number): number;
  };
  export default inflate;
}
