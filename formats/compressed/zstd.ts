// Zstandard payloads (.zst, .tzst, .tar.zst, .pkg.tar.zst, .cpio.zst, data.tar.zst): every frame
// decoded and verified (multi-frame, skippable frames, with or without content size and
// checksum; frames needing a dictionary are refused); the payload nested. Unchanged payload: the
// bytes are kept. Changed: one frame as the zstd 1.5.4 CLI writes it, with the first frame's
// checksum and content-size flags, at the level the window implies (src/codecs/zstd.ts:
// window over 2 MiB -> 19, else 3); skippable frames are dropped then (they describe the old bytes).
import { decodeZstdFrame, describeZstdSettings, zstdEncoder, isSkippableMagic, isZstdMagic, skippableEnd, zstdSettingsOf, type ZstdSettings } from '../../src/codecs/zstd.js';
import { FormatError } from '../../src/types.js';
import { innerNameBySuffix, payloadHandler, type PayloadCodec } from './payload.js';

export const zstdCodec: PayloadCodec<ZstdSettings> = {
  name: 'zstd',
  description: 'zstd (multi-frame, skippable frames): payload nested; recompressed only if it changed (zstd 1.5.4 CLI output, flags kept, level 3 or 19 by window)',
  extensions: ['.zst', '.tzst', '.zstd'],
  streamWord: 'frame',
  detect: (head) => isZstdMagic(head) || (isSkippableMagic(head) && head.length >= 8 && isZstdMagic(head.subarray(8 + (head[4]! | (head[5]! << 8) | (head[6]! << 16) | (head[7]! << 24))))),
  innerName: innerNameBySuffix([
    ['.tzst', '.tar'],
    ['.zst', ''],
    ['.zstd', ''],
  ]),
  async parse(input, ctx, sink) {
    let settings: ZstdSettings | undefined;
    let meta: Record<string, string | number> = {};
    let frames = 0;
    let skippable = 0;
    let pos = 0;
    while (pos < input.size) {
      const head = await input.read(pos, Math.min(4, input.size - pos));
      if (isSkippableMagic(head)) {
        pos = await skippableEnd(input, pos);
        skippable++;
        continue;
      }
      if (!isZstdMagic(head)) {
        if (frames === 0) throw new FormatError(`not a zstd file: no frame at offset ${pos}`);
        break;
      }
      const f = await decodeZstdFrame(input, pos, sink, ctx.options.limits, `zstd frame ${frames + 1} at offset ${pos}`);
      if (!settings) {
        settings = zstdSettingsOf(f.header);
        meta = { checksum: f.header.checksum ? 1 : 0, contentSize: f.header.contentSize ?? 'absent', window: f.header.windowSize ?? 'single segment' };
      }
      frames++;
      pos = f.end;
    }
    if (!settings) throw new FormatError('no zstd frame in the file');
    return { end: pos, settings, streams: frames, meta: { ...meta, skippable }, dropped: skippable ? `${skippable} skippable frame(s)` : undefined };
  },
  needsSize: true,
  encoder: async (settings, size, output) => zstdEncoder(settings, size, output),
  describe: describeZstdSettings,
};

export const zstdHandler = payloadHandler(zstdCodec);
