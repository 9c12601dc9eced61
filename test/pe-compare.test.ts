// `detnorm diff` for PE/COFF through Handler.compare (formats/pe/compare.ts): with mingw-w64,
// two checkouts whose path is compiled into .rdata (assert's __FILE__): the DWARF build
// directories (normalized away by --map-path) and the loaded-section build path (unfixable, never
// normalized away); the same for objects; short import members by their stamp (no tool needed).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffPair, diffPaths, type Difference } from '../src/diff.js';
import { haveTool, tempDir } from './helpers.js';

const HAVE = haveTool('x86_64-w64-mingw32-gcc');
const tmp = HAVE ? tempDir('detnorm-pe-compare-') : { dir: '', cleanup: () => {} };
afterAll(() => tmp.cleanup());

const MAIN = '#include <stdio.h>\n#include <assert.h>\nint main(int argc, char **argv) {\n  assert(argc > 0);\n  printf("compare %d\\n", argc);\n  return 0;\n}\n';
const CHECKOUTS = ['co-a', 'checkout-bb'] as const;

const find = (ds: readonly Difference[], field: string) => ds.find((d) => d.field.startsWith(field));

describe.skipIf(!HAVE)('PE diff: build directories in DWARF and in loaded sections', () => {
  beforeAll(() => {
    for (const c of CHECKOUTS) {
      const dir = join(tmp.dir, c);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'main.c'), MAIN);
      execFileSync('x86_64-w64-mingw32-gcc', ['-g', '-O1', join(dir, 'main.c'), '-o', join(dir, 'prog.exe')]);
      execFileSync('x86_64-w64-mingw32-gcc', ['-g', '-O1', '-c', join(dir, 'main.c'), '-o', join(dir, 'main.o')]);
    }
  }, 120_000);
  const [a, b] = CHECKOUTS.map((c) => join(tmp.dir, c));
  const maps = () => [`${a}=/build/src`, `${b}=/build/src`];

  it('images: the two directories, the fix for DWARF, and the path in .rdata that no option fixes', async () => {
    const plain = await diffPaths(join(a!, 'prog.exe'), join(b!, 'prog.exe'));
    const ds = plain.pairs[0]!.differences;
    const dwarf = find(ds, 'build path (DWARF')!;
    expect([dwarf.a, dwarf.b]).toEqual([a, b]);
    expect(dwarf.cause).toBe(`PE: built in two directories (--map-path ${a}=/build --map-path ${b}=/build maps the debug information)`);
    const loaded = find(ds, 'build path in loaded section')!;
    expect(loaded.field).toBe('build path in loaded section .rdata');
    expect(loaded.unfixable).toBe(true);
    expect(loaded.normalized).toBe(false);
    expect(find(ds, 'loaded sections')!.note).toContain('.rdata'); // and .text, .reloc: the paths' lengths differ
    // Only fields that differ: the DLL-free mingw program has no CodeView record, so no GUID.
    expect(find(ds, 'CodeView')).toBeUndefined();
    const mapped = await diffPaths(join(a!, 'prog.exe'), join(b!, 'prog.exe'), { mapPaths: maps() });
    expect(mapped.pairs[0]!.status).toBe('differs');
    const md = mapped.pairs[0]!.differences;
    expect(find(md, 'build path (DWARF')!.normalized).toBe(true);
    expect(find(md, 'build path in loaded section')!.normalized).toBe(false);
  });

  it('objects: the path in .rdata will be in the linked program', async () => {
    const r = await diffPaths(join(a!, 'main.o'), join(b!, 'main.o'), { mapPaths: maps() });
    const ds = r.pairs[0]!.differences;
    expect(find(ds, 'build path (DWARF')!.normalized).toBe(true);
    const loaded = find(ds, 'build path in section')!;
    expect(loaded.field).toBe('build path in section .rdata');
    expect(loaded.unfixable).toBe(true);
    expect(loaded.cause).toMatch(/^COFF: .*it will be in the linked program/);
    expect(r.pairs[0]!.causes.join('\n')).toMatch(/COFF: DWARF sections differ \(.*\.debug_line/);
  });
});

describe('PE diff: short import members', () => {
  const member = (stamp: number, name = 'lib_twice') => {
    const names = Buffer.from(`${name}\0lib.dll\0`, 'latin1');
    const h = Buffer.alloc(20);
    h.writeUInt16LE(0, 0);
    h.writeUInt16LE(0xffff, 2);
    h.writeUInt16LE(0, 4);
    h.writeUInt16LE(0x8664, 6);
    h.writeUInt32LE(stamp, 8);
    h.writeUInt32LE(names.length, 12);
    return Buffer.concat([h, names]);
  };
  it('the stamp (link.exe\'s lib writes the time): normalized away', async () => {
    const r = await diffPair(member(0x5f000000), member(0x60000000), 'lib_twice.o', 'lib_twice.o');
    expect(r.status).toBe('normalized');
    expect(r.differences.map((d) => [d.field, d.a, d.b, d.normalized])).toEqual([['import member TimeDateStamp', '0x5f000000', '0x60000000', true]]);
    expect(r.causes.join()).toMatch(/import members' TimeDateStamps differ/);
  });
  it('another symbol: a content difference that stays', async () => {
    const r = await diffPair(member(0), member(0, 'lib_thrice'), 'imp.o', 'imp.o');
    expect(r.status).toBe('differs');
    expect(r.differences.map((d) => [d.field, d.a, d.b])).toEqual([['import (machine, type, hint, names)', 'lib_twice in lib.dll', 'lib_thrice in lib.dll']]);
  });
});
