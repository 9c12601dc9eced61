// The committed codec modules (vendor/codecs/*.wasm) are what scripts/build-codecs.sh builds
// from Debian 12's source packages (checked against vendor/codecs/SOURCES) with clang 14 and
// wasi-libc: nobody has to trust a binary blob. Needs clang-14, wasi-libc, dpkg-dev and a
// bookworm deb-src line (.ci/run sets them up); about a minute and a half on 2 cores.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haveTool, run, tempDir } from './helpers.js';

const ok = haveTool('clang-14') && haveTool('dpkg-source') && haveTool('apt-get');

describe.skipIf(!ok)('vendor/codecs/*.wasm are reproducible from the pinned sources', () => {
  it('scripts/build-codecs.sh rebuilds every module byte for byte', () => {
    const out = tempDir('detnorm-codecs-build-');
    try {
      run('bash', [new URL('../scripts/build-codecs.sh', import.meta.url).pathname, out.dir], { env: { CODEC_SRC: process.env.CODEC_SRC } });
      for (const name of ['xz', 'zstd', 'bzip2', 'lz4']) {
        const built = readFileSync(join(out.dir, `${name}.wasm`));
        const committed = readFileSync(new URL(`../vendor/codecs/${name}.wasm`, import.meta.url));
        expect(built.equals(committed), `${name}.wasm`).toBe(true);
      }
    } finally {
      out.cleanup();
    }
  });
});
