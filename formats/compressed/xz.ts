// .xz payloads (.xz, .txz, .tar.xz, .cpio.xz, a .deb's data.tar.xz): every stream decoded and
// verified (all filters and checks liblzma 5.4.1 knows, multi-block, concatenated streams with
// stream padding); the payload nested. Unchanged payload: the bytes are kept. Changed: one
// stream from liblzma 5.4.1 at preset 6 with what the first stream's headers record (check type,
// filter chain, LZMA2 dictionary up to 64 MiB, and the Block layout: single-threaded as
// `xz -T1`, or multi-threaded as `xz -T0` and dpkg-deb write, when its Block Headers carry sizes).
import { CHECK_NAMES, decodeXzStream, describeXzSettings, xzEncoder, isXzMagic, type XzSettings } from '../../src/codecs/xz.js';
import { FormatError, type Source } from '../../src/types.js';
import { innerNameBySuffix, payloadHandler, type PayloadCodec } from './payload.js';

/** Offset of the next stream after `pos` (stream padding: zeros in 4-byte units), or undefined. */
async function nextStream(input: Source, pos: number): Promise<number | undefined> {
  let at = pos;
  while (at < input.size) {
    const b = await input.read(at, Math.min(1 << 16, input.size - at));
    const nz = b.findIndex((x) => x !== 0);
    if (nz < 0) {
      at += b.length;
      continue;
    }
    at += nz;
    break;
  }
  if (at >= input.size || (at - pos) % 4 !== 0) return undefined;
  return isXzMagic(await input.read(at, Math.min(6, input.size - at))) ? at : undefined;
}

export const xzCodec: PayloadCodec<XzSettings> = {
  name: 'xz',
  description: 'xz (every stream, filter and check type): payload nested; recompressed only if it changed (liblzma 5.4.1 -6, check and block layout kept)',
  extensions: ['.xz', '.txz'],
  streamWord: 'stream',
  detect: isXzMagic,
  innerName: innerNameBySuffix([
    ['.txz', '.tar'],
    ['.xz', ''],
  ]),
  async parse(input, ctx, sink) {
    if (!isXzMagic(await input.read(0, Math.min(6, input.size)))) throw new FormatError('not an xz file: bad magic at offset 0');
    let settings: XzSettings | undefined;
    let streams = 0;
    let pos: number | undefined = 0;
    let end = 0;
    while (pos !== undefined) {
      const s = await decodeXzStream(input, pos, sink, ctx.options.limits, `xz stream ${streams + 1} at offset ${pos}`);
      settings ??= s.settings;
      streams++;
      end = s.end;
      pos = await nextStream(input, end);
    }
    const meta = { check: CHECK_NAMES[settings!.check] ?? settings!.check, layout: settings!.layout, dict: settings!.dictSize };
    return { end, settings: settings!, streams, meta };
  },
  encoder: (settings, _size, output) => xzEncoder(settings, output),
  describe: describeXzSettings,
};

export const xzHandler = payloadHandler(xzCodec);
