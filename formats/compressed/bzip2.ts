// bzip2 payloads (.bz2, .tbz2, .tar.bz2, data.tar.bz2): every stream decoded and verified
// (concatenated streams, as pbzip2 writes them); the payload nested. Unchanged payload: the
// bytes are kept. Changed: `bzip2 -N` with the first stream's block size N (libbz2 1.0.8), or,
// when the input is pbzip2's layout (two or more streams, all but the last of one size, a
// multiple of 100,000 bytes), pbzip2's layout with that piece size.
import { bzip2Level, decodeBzip2Stream, describeBzip2Settings, bzip2Encoder, isBzip2Magic, type Bzip2Settings } from '../../src/codecs/bzip2.js';
import { innerNameBySuffix, payloadHandler, type PayloadCodec } from './payload.js';

export const bzip2Codec: PayloadCodec<Bzip2Settings> = {
  name: 'bzip2',
  description: 'bzip2 (multi-stream, pbzip2): payload nested; recompressed only if it changed (libbz2 1.0.8, block size and pbzip2 layout kept)',
  extensions: ['.bz2', '.tbz2', '.tbz'],
  streamWord: 'stream',
  detect: isBzip2Magic,
  innerName: innerNameBySuffix([
    ['.tbz2', '.tar'],
    ['.tbz', '.tar'],
    ['.bz2', ''],
  ]),
  async parse(input, ctx, sink) {
    const level = bzip2Level(await input.read(0, Math.min(10, input.size)));
    const sizes: number[] = [];
    let pos = 0;
    while (pos < input.size && isBzip2Magic(await input.read(pos, Math.min(10, input.size - pos)))) {
      const s = await decodeBzip2Stream(input, pos, sink, ctx.options.limits, `bzip2 stream ${sizes.length + 1} at offset ${pos}`);
      sizes.push(s.size);
      pos = s.end;
    }
    const first = sizes[0]!;
    const pbzip2 = sizes.length > 1 && first > 0 && first % 100000 === 0 && sizes.slice(0, -1).every((n) => n === first) && sizes[sizes.length - 1]! <= first;
    const settings = { level, chunk: pbzip2 ? first : 0 };
    return { end: pos, settings, streams: sizes.length, meta: { level, layout: pbzip2 ? `pbzip2 ${first}` : 'bzip2' } };
  },
  encoder: async (settings, _size, output) => bzip2Encoder(settings, output),
  describe: describeBzip2Settings,
};

export const bzip2Handler = payloadHandler(bzip2Codec);
