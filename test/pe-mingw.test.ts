// PE with mingw-w64's binutils: a stripped program and its separate debug file
// (objcopy --only-keep-debug / --add-gnu-debuglink) normalized together keep a matching
// .gnu_debuglink CRC; a build path compiled into .rdata (assert's __FILE__) is reported.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32 } from '../formats/crc32.js';
import { parseImage, sectionBytes } from '../formats/pe/image.js';
import { haveTool, norm, tempDir } from './helpers.js';
import { pefilePython, pefileView, wineRunner } from './pe-helpers.js';

const HAVE = haveTool('x86_64-w64-mingw32-gcc') && haveTool('x86_64-w64-mingw32-objcopy') && haveTool('x86_64-w64-mingw32-objdump');
const tmp = HAVE ? tempDir('detnorm-pe-mingw-') : { dir: '', cleanup: () => {} };
afterAll(() => tmp.cleanup());

const MAIN = '#include <stdio.h>\n#include <assert.h>\nint main(int argc, char **argv) {\n  assert(argc > 0);\n  printf("debuglink %d\\n", argc);\n  return 0;\n}\n';

function linkCrc(path: string): number {
  const img = parseImage(readFileSync(path));
  const s = img.coff.sections.find((x) => x.name === '.gnu_debuglink')!;
  const d = sectionBytes(img, s);
  return new DataView(d.buffer, d.byteOffset, d.length).getUint32(d.length - 4, true);
}

describe.skipIf(!HAVE)('PE .gnu_debuglink keeps the CRC of the normalized debug file', () => {
  it('a stripped program and its debug file normalized together', async () => {
    const { normalizeTree } = await import('../src/api.js');
    const dir = join(tmp.dir, 'checkout');
    const out = join(dir, 'out');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(dir, 'main.c'), MAIN);
    execFileSync('x86_64-w64-mingw32-gcc', ['-g', '-O1', join(dir, 'main.c'), '-o', join(out, 'prog.exe')]);
    execFileSync('x86_64-w64-mingw32-objcopy', ['--only-keep-debug', 'prog.exe', 'prog.debug'], { cwd: out });
    execFileSync('x86_64-w64-mingw32-objcopy', ['--strip-debug', '--add-gnu-debuglink=prog.debug', 'prog.exe'], { cwd: out });
    const before = linkCrc(join(out, 'prog.exe'));
    expect(before).toBe(crc32(readFileSync(join(out, 'prog.debug'))) >>> 0);
    const maps = { mapPaths: [{ from: dir, to: '/build/src' }], jobs: 1 };
    const r = await normalizeTree(out, maps);
    expect(r.reports.map((x) => [x.path.split('/').pop(), x.status])).toEqual([['prog.debug', 'changed'], ['prog.exe', 'changed']]);
    const exe = r.reports.find((x) => x.path.endsWith('prog.exe'))!;
    expect(exe.changes.map((c) => c.what).join('\n')).toContain('.gnu_debuglink CRC');
    expect(exe.notices).toContain('build path in loaded section .rdata: not fixable after linking; use -ffile-prefix-map');
    expect(linkCrc(join(out, 'prog.exe'))).not.toBe(before);
    expect(linkCrc(join(out, 'prog.exe'))).toBe(crc32(readFileSync(join(out, 'prog.debug'))) >>> 0);
    // The pair is stable, the debug file has no build path left, the tools read both.
    const again = await normalizeTree(out, maps);
    expect(again.reports.map((x) => x.status)).toEqual(['unchanged', 'unchanged']);
    const debug = readFileSync(join(out, 'prog.debug'));
    expect(debug.includes(Buffer.from(dir))).toBe(false);
    expect(execFileSync('x86_64-w64-mingw32-objdump', ['--dwarf=line', join(out, 'prog.debug')], { maxBuffer: 1 << 28 }).toString()).toContain('/build/src');
    const py = pefilePython();
    if (py) for (const v of pefileView(py, [join(out, 'prog.exe')])) expect(v.warnings).toEqual([]);
    if (haveTool('wine')) {
      const run = join(tmp.dir, 'run');
      mkdirSync(run);
      copyFileSync(join(out, 'prog.exe'), join(run, 'prog.exe'));
      expect(wineRunner(tmp.dir)('prog.exe', run).stdout).toMatch(/^debuglink 1\r?\n$/);
    }
  }, 300_000);
  it('a build path in an object\'s data is reported there too', async () => {
    const dir = join(tmp.dir, 'obj');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'main.c'), MAIN);
    execFileSync('x86_64-w64-mingw32-gcc', ['-g', '-c', join(dir, 'main.c'), '-o', join(dir, 'main.o')]);
    const r = await norm(readFileSync(join(dir, 'main.o')), 'main.o', { mapPaths: [{ from: dir, to: '/build/src' }] });
    expect(r.status).toBe('changed');
    expect(r.notices).toContain('build path in section .rdata: it will be in the linked program; use -ffile-prefix-map');
  });
});
