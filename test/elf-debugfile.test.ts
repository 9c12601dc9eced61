// ELF separate debug files (what rpm's find-debuginfo puts into -debuginfo packages): the file
// objcopy --only-keep-debug or eu-strip -f splits off a gcc -g program keeps the program's
// headers, which describe the program's file (eu-strip keeps their file sizes, so a "segment"
// spans the DWARF). With --map-path the DWARF is rewritten and the non-loaded sections laid out
// again; the loaded ones (NOBITS, and the notes with the build-id) stay as they are. Built in
// two checkouts whose paths have different lengths; checked with readelf and gdb.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeTree } from '../src/api.js';
import { SHF_ALLOC, findBuildId, parseElf, rawSection } from '../formats/elf/elf.js';
import { isDebugOnly } from '../formats/elf/layout.js';
import { haveTool, norm, tempDir } from './helpers.js';

const HAVE = haveTool('gcc') && haveTool('objcopy') && haveTool('readelf');
const HAVE_EU = HAVE && haveTool('eu-strip');
const HAVE_GDB = HAVE_EU && haveTool('gdb');

const SRC = '#include <stdio.h>\nstatic int sq(int x) { return x * x; }\nint main(void) {\n  printf("%d\\n", sq(7));\n  return 0;\n}\n';
// Checkout paths of different lengths: the mapped DWARF strings converge, their sizes differ before.
const CHECKOUTS = ['co1', 'a-much-longer-checkout-2'];
const SPLITTERS = [
  { id: 'objcopy', have: HAVE, split: (dir: string) => execFileSync('objcopy', ['--only-keep-debug', 'prog', 'prog.debug'], { cwd: dir }) },
  { id: 'eu-strip', have: HAVE_EU, split: (dir: string) => execFileSync('eu-strip', ['-f', 'prog.debug', '-o', 'prog.stripped', 'prog'], { cwd: dir }) },
];
const TO = '/build/src';

const tmp = HAVE ? tempDir('detnorm-elfdbg-') : { dir: '', cleanup: () => {} };
const root = tmp.dir;
const dirOf = (co: string, sp: string) => join(root, co, sp);

beforeAll(() => {
  if (!HAVE) return;
  for (const co of CHECKOUTS) {
    mkdirSync(join(root, co));
    writeFileSync(join(root, co, 'prog.c'), SRC);
    for (const sp of SPLITTERS) {
      if (!sp.have) continue;
      const d = dirOf(co, sp.id);
      mkdirSync(d);
      // By absolute path from a build directory in the checkout, as CMake does.
      execFileSync('gcc', ['-g', '-O1', '-o', 'prog', join(root, co, 'prog.c')], { cwd: d });
      sp.split(d);
    }
  }
});
afterAll(() => tmp.cleanup());

const maps = (co: string) => [{ from: join(root, co), to: TO }];
const readelfErr = (p: string, args: string[]) => spawnSync('readelf', [...args, p], { maxBuffer: 1 << 28 }).stderr.toString();

/** The file with its build-id descriptor zeroed. */
function withoutBuildId(b: Uint8Array): Buffer {
  const out = Buffer.from(b);
  const n = findBuildId(parseElf(out))!;
  out.fill(0, n.fileOffset, n.fileOffset + n.size);
  return out;
}

function buildId(b: Uint8Array): string {
  const n = findBuildId(parseElf(b))!;
  return Buffer.from(b.subarray(n.fileOffset, n.fileOffset + n.size)).toString('hex');
}

for (const sp of SPLITTERS) {
  describe.skipIf(!sp.have)(`ELF debug file (${sp.id}): build paths mapped, loaded sections kept, reference tools`, () => {
    it('DWARF rewritten; loaded section headers and contents unchanged; readelf -a / --debug-dump=info warn no more than on the input', async () => {
      for (const co of CHECKOUTS) {
        const d = dirOf(co, sp.id);
        const input = readFileSync(join(d, 'prog.debug'));
        expect(isDebugOnly(parseElf(input))).toBe(true);
        const r = await norm(input, 'prog.debug', { mapPaths: maps(co) });
        expect(r.status, r.reason).toBe('changed');
        expect(r.changes.map((c) => c.kind)).toContain('path');
        expect(Buffer.from(r.output).includes(Buffer.from(join(root, co)))).toBe(false);
        const [a, b] = [parseElf(input), parseElf(r.output)];
        for (const s of a.sections) {
          if (!(s.flags & SHF_ALLOC)) continue;
          const t = b.sections[s.index]!;
          expect(Buffer.from(r.output.subarray(t.headerOffset, t.headerOffset + 64)).equals(input.subarray(s.headerOffset, s.headerOffset + 64)), s.name).toBe(true);
          expect(Buffer.from(rawSection(b, t)).equals(rawSection(a, s)), s.name).toBe(true);
        }
        const p = join(d, 'prog.debug.out');
        writeFileSync(p, r.output);
        for (const args of [['-a'], ['--debug-dump=info'], ['--debug-dump=line']]) {
          expect(readelfErr(p, args), args.join(' ')).toBe(readelfErr(join(d, 'prog.debug'), args));
        }
        const info = spawnSync('readelf', ['--debug-dump=info', p], { maxBuffer: 1 << 28 }).stdout.toString();
        expect(info).toContain(TO);
      }
    });

    it('nothing to map (no --map-path, or none of its paths): left byte for byte, so its binary\'s .gnu_debuglink CRC in another tree or package stays right', async () => {
      // (Its program headers, the binary's, reach past its end: not a reason to refuse it.)
      const co = CHECKOUTS[0]!;
      const input = readFileSync(join(dirOf(co, sp.id), 'prog.debug'));
      for (const opts of [{}, { mapPaths: [{ from: '/nowhere/in/this/file', to: TO }] }]) {
        const r = await norm(input, 'prog.debug', opts);
        expect(r.status, r.reason).toBe('unchanged');
      }
    });

    it('normalizing twice = once', async () => {
      for (const co of CHECKOUTS) {
        const r = await norm(readFileSync(join(dirOf(co, sp.id), 'prog.debug')), 'prog.debug', { mapPaths: maps(co) });
        const again = await norm(r.output, 'prog.debug', { mapPaths: maps(co) });
        expect(again.status, JSON.stringify(again.changes)).toBe('unchanged');
      }
    });

    it('two checkouts with paths of different lengths: byte-identical except the build-id, which hashes the program as linked (with its paths) and is kept', async () => {
      const outs: Uint8Array[] = [];
      const ids: string[] = [];
      for (const co of CHECKOUTS) {
        const input = readFileSync(join(dirOf(co, sp.id), 'prog.debug'));
        const r = await norm(input, 'prog.debug', { mapPaths: maps(co) });
        expect(buildId(r.output)).toBe(buildId(input));
        expect(r.notices.filter((n) => n.includes('build-id'))).toEqual(["separate debug file: build-id is the binary's (a hash of the binary as linked); kept"]);
        outs.push(r.output);
        ids.push(buildId(input));
      }
      expect(ids[0]).not.toBe(ids[1]);
      expect(outs[0]!.length).toBe(outs[1]!.length);
      expect(withoutBuildId(outs[0]!).equals(withoutBuildId(outs[1]!))).toBe(true);
    });
  });
}

describe.skipIf(!HAVE)('ELF debug file detection: only a file whose loaded sections lost their contents', () => {
  it('programs (with DWARF, stripped) are not debug files; objcopy and eu-strip outputs are', () => {
    for (const sp of SPLITTERS) {
      if (!sp.have) continue;
      const d = dirOf(CHECKOUTS[0]!, sp.id);
      expect(isDebugOnly(parseElf(readFileSync(join(d, 'prog'))))).toBe(false);
      expect(isDebugOnly(parseElf(readFileSync(join(d, 'prog.debug'))))).toBe(true);
    }
    if (HAVE_EU) expect(isDebugOnly(parseElf(readFileSync(join(dirOf(CHECKOUTS[0]!, 'eu-strip'), 'prog.stripped'))))).toBe(false);
  });
});

describe.skipIf(!HAVE_GDB)('ELF debug file (eu-strip -f) with its stripped program: gdb pairs them after normalizing', () => {
  it('.gnu_debuglink CRC follows the normalized debug file; gdb finds main in the mapped source', async () => {
    for (const co of CHECKOUTS) {
      const src = dirOf(co, 'eu-strip');
      const d = join(root, `pair-${co}`);
      mkdirSync(d);
      copyFileSync(join(src, 'prog.stripped'), join(d, 'prog'));
      copyFileSync(join(src, 'prog.debug'), join(d, 'prog.debug'));
      const r = await normalizeTree(d, { mapPaths: maps(co), jobs: 1 });
      expect(r.reports.map((x) => x.status)).toEqual(['changed', 'changed']);
      // One gdb run: the line of main, and the sources it read from the debug file (mapped directory).
      const g = spawnSync('gdb', ['-nx', '-batch', '-ex', 'info line main', '-ex', 'info sources', join(d, 'prog')]);
      expect(g.stderr.toString()).not.toMatch(/does not match|CRC mismatch|warning/i);
      const outText = g.stdout.toString();
      expect(outText).toContain(`Line 3 of "${TO}/prog.c"`);
      expect(outText).toContain(`${join(d, 'prog.debug')}:`);
      expect(outText).toContain(`${TO}/prog.c`);
      expect(outText).not.toContain(join(root, co));
      const again = await normalizeTree(d, { mapPaths: maps(co), jobs: 1 });
      expect(again.reports.map((x) => x.status)).toEqual(['unchanged', 'unchanged']);
    }
  }, 60_000);
});
