// Shared by test/debuglink-order.test.ts (a quick set) and test/slow/debuglink-order.slow.test.ts
// (every layout and order). .gnu_debuglink (docs/DESIGN.md, ".gnu_debuglink"): a binary's CRC is
// that of its debug file as detnorm normalizes it, whatever the order of work. For ELF (gcc,
// objcopy --only-keep-debug, --add-gnu-debuglink) and PE (mingw-w64's gcc and objcopy): the debug
// file beside the binary with a name that sorts before it and after it, and in .debug/;
// normalized at -j1 and -j2, with the debug file done alone first, and with the binary done alone
// first. Every way gives the same bytes; the CRC is python's zlib.crc32 of the final debug file
// (and GDB loads the ELF pair); running again changes nothing. A debug file of another build
// under the linked name is not the pair: its CRC is kept.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeTree } from '../src/api.js';
import { parseElf } from '../formats/elf/elf.js';
import { parseImage, sectionBytes } from '../formats/pe/image.js';
import { haveTool, tempDir } from './helpers.js';

const HAVE_PY = haveTool('python3');
export const HAVE_ELF = HAVE_PY && haveTool('gcc') && haveTool('objcopy');
export const HAVE_PE = HAVE_PY && haveTool('x86_64-w64-mingw32-gcc') && haveTool('x86_64-w64-mingw32-objcopy');

const MAIN = '#include <stdio.h>\nint twice(int x) { return 2 * x; }\nint main(int argc, char **argv) {\n  printf("debuglink %d\\n", twice(argc));\n  return 0;\n}\n';
const OTHER = MAIN.replace('2 * x', '3 * x + argc_extra(x)').replace('int twice', 'static int argc_extra(int x) { return x ^ 5; }\nint twice');

interface Format {
  readonly name: string;
  readonly cc: string;
  readonly objcopy: string;
  readonly exe: (base: string) => string;
  /** The CRC the binary's .gnu_debuglink holds. */
  linkCrc(bytes: Uint8Array): number;
}

export const ELF: Format = {
  name: 'ELF',
  cc: 'gcc',
  objcopy: 'objcopy',
  exe: (b) => b,
  linkCrc(bytes) {
    const e = parseElf(bytes);
    const s = e.sections.find((x) => x.name === '.gnu_debuglink')!;
    return e.bin.u32(s.offset + s.size - 4);
  },
};

export const PE: Format = {
  name: 'PE',
  cc: 'x86_64-w64-mingw32-gcc',
  objcopy: 'x86_64-w64-mingw32-objcopy',
  exe: (b) => `${b}.exe`,
  linkCrc(bytes) {
    const img = parseImage(bytes);
    const d = sectionBytes(img, img.coff.sections.find((x) => x.name === '.gnu_debuglink')!);
    return new DataView(d.buffer, d.byteOffset, d.length).getUint32(d.length - 4, true);
  },
};

/** The layouts: the binary, and the debug file relative to it (the link names its base name). */
export const LAYOUTS = [
  { label: 'debug file sorts after the binary', exe: 'a', debug: 'z.debug' },
  { label: 'debug file sorts before the binary', exe: 'z', debug: 'a.debug' },
  { label: 'debug file in .debug/', exe: 'prog', debug: '.debug/prog.debug' },
] as const;

function pyCrc(path: string): number {
  return Number(execFileSync('python3', ['-c', 'import sys, zlib; print(zlib.crc32(open(sys.argv[1], "rb").read()))', path]).toString().trim());
}

/** Build the pair in `src` (a checkout: its path ends up in the DWARF), return the output directory. */
function buildPair(f: Format, src: string, exe: string, debug: string, code = MAIN): string {
  const out = join(src, 'out');
  mkdirSync(dirname(join(out, debug)), { recursive: true });
  writeFileSync(join(src, 'main.c'), code);
  execFileSync(f.cc, ['-g', '-O1', join(src, 'main.c'), '-o', join(out, exe)]);
  execFileSync(f.objcopy, ['--only-keep-debug', exe, debug], { cwd: out });
  execFileSync(f.objcopy, ['--strip-debug', `--add-gnu-debuglink=${debug}`, exe], { cwd: out });
  return out;
}

export type Mode = 'j1' | 'j2' | 'debug first' | 'exe first';

/** One describe per format: each layout normalized in each mode (j1 first), then the stale pair. */
export function suite(f: Format, have: boolean, layouts: ReadonlyArray<(typeof LAYOUTS)[number]>, modes: readonly Mode[]): void {
  describe.skipIf(!have)(`${f.name} .gnu_debuglink: the CRC of the normalized debug file, whatever the order of work`, () => {
    const tmp = have ? tempDir(`detnorm-debuglink-${f.name}-`) : { dir: '', cleanup: () => {} };
    afterAll(() => tmp.cleanup());
    const root = tmp.dir;
    beforeAll(() => {
      for (const [i, l] of layouts.entries()) buildPair(f, join(root, `checkout-${i}`), f.exe(l.exe), l.debug);
    }, 120_000);

    for (const [i, l] of layouts.entries()) {
      it(`${l.label}: ${modes.join(', ')} give the same bytes; CRC = zlib.crc32; twice = once`, async () => {
        const src = join(root, `checkout-${i}`);
        const exe = f.exe(l.exe);
        const maps = [{ from: src, to: '/build/src' }];
        const original = { exe: readFileSync(join(src, 'out', exe)), debug: readFileSync(join(src, 'out', l.debug)) };
        expect(f.linkCrc(original.exe)).toBe(pyCrc(join(src, 'out', l.debug)));
        const runs: Record<string, { exe: Buffer; debug: Buffer }> = {};
        const fresh = (name: string) => {
          const dir = join(root, `run-${i}-${name}`);
          cpSync(join(src, 'out'), dir, { recursive: true });
          return dir;
        };
        for (const jobs of [1, 2].filter((j) => j === 1 || modes.includes('j2'))) {
          const dir = fresh(`j${jobs}`);
          const r = await normalizeTree(dir, { mapPaths: maps, jobs });
          expect(r.reports.map((x) => x.status)).toEqual(['changed', 'changed']);
          const rep = r.reports.find((x) => x.path.endsWith(`/${exe}`))!;
          expect(rep.changes.map((c) => c.what)).toContain(`.gnu_debuglink CRC set to that of the normalized ${l.debug}`);
          runs[`j${jobs}`] = { exe: readFileSync(join(dir, exe)), debug: readFileSync(join(dir, l.debug)) };
        }
        for (const first of (['debug', 'exe'] as const).filter((x) => modes.includes(`${x} first`))) {
          const dir = fresh(`${first}-first`);
          // One file alone (the tree is that file: the binary then sees no debug file), then the tree.
          await normalizeTree(join(dir, first === 'debug' ? l.debug : exe), { mapPaths: maps, jobs: 1 });
          await normalizeTree(dir, { mapPaths: maps, jobs: 1 });
          runs[`${first} first`] = { exe: readFileSync(join(dir, exe)), debug: readFileSync(join(dir, l.debug)) };
        }
        const ref = runs.j1!;
        expect(ref.debug.equals(original.debug)).toBe(false);
        expect(ref.debug.includes(Buffer.from(src))).toBe(false);
        for (const [k, v] of Object.entries(runs)) {
          expect(v.exe.equals(ref.exe), `${k}: binary`).toBe(true);
          expect(v.debug.equals(ref.debug), `${k}: debug file`).toBe(true);
        }
        const dir = join(root, `run-${i}-j1`);
        expect(f.linkCrc(ref.exe)).not.toBe(f.linkCrc(original.exe));
        expect(f.linkCrc(ref.exe)).toBe(pyCrc(join(dir, l.debug)));
        const again = await normalizeTree(dir, { mapPaths: maps, jobs: 2 });
        expect(again.reports.map((x) => x.status)).toEqual(['unchanged', 'unchanged']);
        if (f === ELF && haveTool('gdb')) {
          const g = spawnSync('gdb', ['-nx', '-batch', '-ex', 'info line twice', join(dir, exe)]);
          expect(g.stderr.toString()).not.toMatch(/does not match|CRC mismatch/);
          expect(g.stdout.toString()).toContain('/build/src/main.c');
        }
      }, 120_000);
    }

    it('a debug file of another build under the linked name: CRC kept, with a notice, in every order', async () => {
      const src = join(root, 'stale');
      const out = buildPair(f, src, f.exe('prog'), 'prog.debug');
      buildPair(f, join(root, 'stale-other'), f.exe('prog'), 'prog.debug', OTHER);
      cpSync(join(root, 'stale-other', 'out', 'prog.debug'), join(out, 'prog.debug'));
      const crc = f.linkCrc(readFileSync(join(out, f.exe('prog'))));
      const maps = [{ from: src, to: '/build/src' }];
      await normalizeTree(join(out, 'prog.debug'), { mapPaths: maps, jobs: 1 });
      const r = await normalizeTree(out, { mapPaths: maps, jobs: 1 });
      const rep = r.reports.find((x) => x.path.endsWith(f.exe('prog')))!;
      expect(rep.notices.join('\n')).toMatch(/\.gnu_debuglink: the CRC does not match the normalized debug file, which is not this binary's \(prog\.debug: .*section/);
      expect(f.linkCrc(readFileSync(join(out, f.exe('prog'))))).toBe(crc);
    }, 120_000);
  });
}
