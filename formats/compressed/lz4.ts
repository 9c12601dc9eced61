// LZ4 payloads (.lz4, .tar.lz4, .cpio.lz4, initramfs segments): frames (any block size and
// mode, with or without checksums and content size; skippable frames) and the legacy format
// (`lz4 -l`, the kernel's and Android's) decoded and verified; the payload nested. Unchanged
// payload: the bytes are kept. Changed: the first frame's format and flags, as the lz4 1.9.4
// CLI writes them at level 9 (`lz4 -9 ...`, or `lz4 -l -9` for the legacy format).
import { decodeLz4Frame, decodeLz4Legacy, describeLz4Settings, lz4Encoder, isLz4FrameMagic, isLz4LegacyMagic, lz4SettingsOf, type Lz4Settings } from '../../src/codecs/lz4.js';
import { isSkippableMagic, skippableEnd } from '../../src/codecs/zstd.js';
import { FormatError } from '../../src/types.js';
import { innerNameBySuffix, payloadHandler, type PayloadCodec } from './payload.js';

export const lz4Codec: PayloadCodec<Lz4Settings> = {
  name: 'lz4',
  description: 'lz4 (frame and legacy format): payload nested; recompressed only if it changed (liblz4 1.9.4 -9, format and frame flags kept)',
  extensions: ['.lz4'],
  streamWord: 'frame',
  detect: (head) => isLz4FrameMagic(head) || isLz4LegacyMagic(head),
  innerName: innerNameBySuffix([['.lz4', '']]),
  async parse(input, ctx, sink) {
    let settings: Lz4Settings | undefined;
    let frames = 0;
    let skippable = 0;
    let pos = 0;
    while (pos < input.size) {
      const head = await input.read(pos, Math.min(4, input.size - pos));
      const what = `lz4 frame ${frames + 1} at offset ${pos}`;
      if (isLz4FrameMagic(head)) {
        const f = await decodeLz4Frame(input, pos, sink, ctx.options.limits, what);
        settings ??= lz4SettingsOf(f.header);
        pos = f.end;
      } else if (isLz4LegacyMagic(head)) {
        settings ??= { format: 'legacy' };
        pos = (await decodeLz4Legacy(input, pos, sink, ctx.options.limits, what)).end;
      } else if (isSkippableMagic(head) && frames > 0) {
        pos = await skippableEnd(input, pos);
        skippable++;
        continue;
      } else {
        if (frames === 0) throw new FormatError(`not an lz4 file: no frame at offset ${pos}`);
        break;
      }
      frames++;
    }
    const meta = { format: settings!.format, ...(settings!.format === 'frame' ? { blockSizeId: settings!.blockSizeId, contentSize: settings!.contentSize ? 1 : 0 } : {}) };
    return { end: pos, settings: settings!, streams: frames, meta, dropped: skippable ? `${skippable} skippable frame(s)` : undefined };
  },
  needsSize: true,
  encoder: (settings, size, output) => lz4Encoder(settings, size, output),
  describe: describeLz4Settings,
};

export const lz4Handler = payloadHandler(lz4Codec);
