// ELF: real gcc builds of one small C project (a program, a shared library with an assert,
// a static library) in two checkouts and in a third built with -ffile-prefix-map, at -O0/-O2,
// DWARF 4/5, with and without -gz; then the reference tools on every output.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual } from '../src/io.js';
import type { Options } from '../src/types.js';
import { SHF_ALLOC, SHT_NOBITS, findBuildId, parseElf, rawSection } from '../formats/elf/elf.js';
import { haveTool, norm, tempDir } from './helpers.js';

const HAVE = haveTool('gcc') && haveTool('readelf') && haveTool('objdump') && haveTool('ar');

const SOURCES: Record<string, string> = {
  'main.c': '#include <stdio.h>\n#include "lib.h"\nint util_add(int, int);\nint main(void) {\n  printf("%d %d\\n", lib_twice(3), util_add(1, 2));\n  return 0;\n}\n',
  'lib.h': 'int lib_twice(int x);\n',
  'lib.c': '#include <assert.h>\n#include "lib.h"\nint lib_twice(int x) {\n  assert(x < 1000);\n  return 2 * x;\n}\n',
  'util.c': 'struct point { int x, y; };\nint util_add(int a, int b) {\n  struct point p = {a, b};\n  return p.x + p.y;\n}\n',
};

// Sources are compiled by absolute path from a build directory inside the checkout (as CMake
// does): DW_AT_name, comp_dir, the line tables and the assert's __FILE__ all hold the checkout.
const BUILD_SH = `#!/bin/sh
set -e
S=$1; O=$2; F=$3
mkdir -p "$O"; cd "$O"
gcc $F -c "$S/main.c" "$S/util.c"
gcc $F -fPIC -shared -o libfoo.so "$S/lib.c"
ar rcs libutil.a util.o
gcc $F -o prog main.o libutil.a -L. -lfoo
`;

const CONFIGS = [
  { id: 'O0-dwarf5', flags: '-g -O0 -gdwarf-5', dwarf: 5 },
  { id: 'O2-dwarf5', flags: '-g -O2 -gdwarf-5', dwarf: 5 },
  { id: 'O0-dwarf4', flags: '-g -O0 -gdwarf-4', dwarf: 4 },
  { id: 'O2-dwarf4', flags: '-g -O2 -gdwarf-4', dwarf: 4 },
  { id: 'O0-dwarf5-gz', flags: '-g -O0 -gdwarf-5 -gz', dwarf: 5 },
  { id: 'O2-dwarf5-gz', flags: '-g -O2 -gdwarf-5 -gz', dwarf: 5 },
  { id: 'O0-dwarf4-gz', flags: '-g -O0 -gdwarf-4 -gz', dwarf: 4 },
  { id: 'O2-dwarf4-gz', flags: '-g -O2 -gdwarf-4 -gz', dwarf: 4 },
  // Inline strings in .debug_info (comp_dir, names): units change length when mapped.
  { id: 'O0-dwarf4-nomerge', flags: '-g -O0 -gdwarf-4 -fno-merge-debug-strings', dwarf: 4 },
  { id: 'O2-dwarf4-nomerge', flags: '-g -O2 -gdwarf-4 -fno-merge-debug-strings', dwarf: 4 },
  // Macro information (.debug_macro with DW_MACRO_define_strp; in .o files one section per
  // COMDAT group, reached through relocations).
  { id: 'O1-dwarf5-g3', flags: '-g3 -O1 -gdwarf-5', dwarf: 5 },
];
const OUTPUTS = ['main.o', 'util.o', 'prog', 'libfoo.so', 'libutil.a'];
// Two checkouts with paths of equal length (so the assert library differs in .rodata text
// only) and a third, of another length, built with -ffile-prefix-map.
const TREES = ['co-aa1', 'co-bb2', 'fpm-checkout'] as const;

const tmp = HAVE ? tempDir('detnorm-elf-') : { dir: '', cleanup: () => {} };
const root = tmp.dir;
const tree = (t: string) => join(root, t);
type Result = Awaited<ReturnType<typeof norm>>;
const results = new Map<string, Result>();
const key = (t: string, c: string, f: string) => `${t}/${c}/${f}`;
const raw = (t: string, c: string, f: string) => readFileSync(join(tree(t), c, f));
const out = (t: string, c: string, f: string) => results.get(key(t, c, f))!;

function optsFor(t: string): Partial<Options> {
  return t === 'fpm-checkout' ? {} : { mapPaths: [{ from: tree(t), to: '/build/src' }] };
}

beforeAll(async () => {
  if (!HAVE) return;
  writeFileSync(join(root, 'build.sh'), BUILD_SH);
  chmodSync(join(root, 'build.sh'), 0o755);
  const jobs: string[] = [];
  for (const t of TREES) {
    mkdirSync(tree(t));
    for (const [name, text] of Object.entries(SOURCES)) writeFileSync(join(tree(t), name), text);
    for (const c of CONFIGS) {
      const extra = t === 'fpm-checkout' ? ` -ffile-prefix-map=${tree(t)}=/build/src` : '';
      jobs.push(`${tree(t)}\n${join(tree(t), c.id)}\n${c.flags}${extra}`);
    }
  }
  // Two at a time: xargs runs build.sh with (checkout, output dir, flags).
  execFileSync('xargs', ['-0', '-P2', '-n3', join(root, 'build.sh')], { input: jobs.map((j) => j.split('\n').join('\0')).join('\0') });
  const work: Promise<void>[] = [];
  for (const t of TREES) for (const c of CONFIGS) for (const f of OUTPUTS) {
    work.push(norm(raw(t, c.id, f), f, optsFor(t)).then((r) => void results.set(key(t, c.id, f), r)));
  }
  await Promise.all(work);
  for (const [k, r] of results) writeFileSync(join(root, `${k}.norm`), r.output);
}, 120_000);

afterAll(() => tmp.cleanup());

/** Names of the sections whose header or contents differ between two ELF files. */
function differingSections(a: Uint8Array, b: Uint8Array): string[] {
  const ea = parseElf(a);
  const eb = parseElf(b);
  const names = new Set<string>();
  if (ea.sections.length !== eb.sections.length) return ['<section count>'];
  for (let i = 0; i < ea.sections.length; i++) {
    const x = ea.sections[i]!;
    const y = eb.sections[i]!;
    if (x.name !== y.name || x.size !== y.size || x.flags !== y.flags || !bytesEqual(rawSection(ea, x), rawSection(eb, y))) names.add(x.name);
  }
  return [...names].sort();
}

function oldPathIn(bytes: Uint8Array, t: string): boolean {
  return Buffer.from(bytes).includes(Buffer.from(tree(t)));
}

describe.skipIf(!HAVE)('ELF convergence: two checkouts mapped with --map-path are byte-identical', () => {
  for (const c of CONFIGS) {
    it(c.id, () => {
      for (const f of OUTPUTS.filter((x) => x !== 'libfoo.so')) {
        const a = out('co-aa1', c.id, f);
        const b = out('co-bb2', c.id, f);
        expect(a.status, `${f}: ${a.reason ?? ''}`).toBe('changed');
        expect(bytesEqual(raw('co-aa1', c.id, f), raw('co-bb2', c.id, f)), `${f} differs before`).toBe(false);
        expect(bytesEqual(a.output, b.output), `${c.id}/${f}`).toBe(true);
        expect(oldPathIn(a.output, 'co-aa1'), `${f} still holds the checkout path`).toBe(false);
      }
    });
  }
});

describe.skipIf(!HAVE)('ELF: equal to a -ffile-prefix-map build of the same project, normalized', () => {
  const stats = { outputs: 0, alreadyCanonical: 0 };
  for (const c of CONFIGS) {
    it(c.id, () => {
      for (const f of ['main.o', 'util.o', 'prog', 'libutil.a']) {
        const a = out('co-aa1', c.id, f).output;
        const p = out('fpm-checkout', c.id, f);
        stats.outputs++;
        if (p.status === 'unchanged') stats.alreadyCanonical++;
        if (c.dwarf === 5) {
          expect(bytesEqual(a, p.output), `${c.id}/${f}`).toBe(true);
        } else if (f !== 'libutil.a') {
          // gcc 12 at DWARF 4 lists the primary source twice in the line table of a
          // -ffile-prefix-map build (".file 1" and ".file 2" both /build/src/main.c), which
          // renumbers DW_AT_decl_file: real content no post-hoc rewrite can or should invent.
          // Everything else must match.
          expect(differingSections(a, p.output).filter((n) => !['.debug_info', '.debug_line', '.rela.debug_line', '.note.gnu.build-id'].includes(n)), `${c.id}/${f}`).toEqual([]);
          // The DIE trees, location lists, aranges and pubnames read the same but for the
          // renumbered files and the line table offset that follows from the longer table.
          const dump = (t: string) => execFileSync('readelf', ['--debug-dump=info,loc,aranges,pubnames', join(root, key(t, c.id, f) + '.norm')]).toString().split('\n').filter((l) => !/DW_AT_(decl|call)_file|DW_AT_stmt_list|^File: /.test(l));
          expect(dump('co-aa1'), `${c.id}/${f}`).toEqual(dump('fpm-checkout'));
          const lines = execFileSync('readelf', ['--debug-dump=rawline', join(root, key('fpm-checkout', c.id, f) + '.norm')]).toString();
          const src = f === 'util.o' ? 'util.c' : 'main.c';
          expect(lines.split('\n').filter((l) => new RegExp(`\\s${src.replace('.', '\\.')}$`).test(l)).length, 'gcc quirk: primary source listed twice').toBeGreaterThanOrEqual(2);
        }
      }
    });
  }
  afterAll(() => {
    if (stats.outputs > 0) console.log(`raw -ffile-prefix-map outputs already canonical: ${stats.alreadyCanonical} of ${stats.outputs}`);
  });
});

describe.skipIf(!HAVE)('ELF: allocated sections are never modified; a build path there is reported', () => {
  for (const c of CONFIGS) {
    it(c.id, () => {
      for (const t of TREES) for (const f of ['main.o', 'util.o', 'prog', 'libfoo.so']) {
        const before = parseElf(raw(t, c.id, f));
        const after = parseElf(out(t, c.id, f).output);
        for (const s of before.sections) {
          if (!(s.flags & SHF_ALLOC) || s.type === SHT_NOBITS || s.name === '.note.gnu.build-id') continue;
          const s2 = after.sections[s.index]!;
          expect(bytesEqual(rawSection(before, s), rawSection(after, s2)), `${t}/${c.id}/${f} ${s.name}`).toBe(true);
          if (before.header.type !== 1) expect(s2.offset).toBe(s.offset);
        }
      }
      const a = out('co-aa1', c.id, 'libfoo.so');
      expect(a.notices).toContain('build path in allocated section .rodata: not fixable after linking; use -ffile-prefix-map');
      // The rest is normalized: the two checkouts differ in .rodata (and so the build-id) only.
      expect(differingSections(a.output, out('co-bb2', c.id, 'libfoo.so').output)).toEqual(['.note.gnu.build-id', '.rodata']);
      const e = parseElf(a.output);
      for (const s of e.sections) if (!(s.flags & SHF_ALLOC)) expect(oldPathIn(rawSection(e, s), 'co-aa1'), s.name).toBe(false);
    });
  }
});

describe.skipIf(!HAVE)('ELF: reference tools read every output without warnings', () => {
  for (const c of CONFIGS) {
    it(c.id, () => {
      for (const f of ['main.o', 'prog', 'libfoo.so']) {
        const p = join(root, key('co-aa1', c.id, f) + '.norm');
        for (const [cmd, args] of [
          ['readelf', ['-a', '-W', p]],
          ['readelf', ['--debug-dump', p]],
          ['objdump', ['--dwarf=decodedline', p]],
        ] as const) {
          const r = spawnSync(cmd, args, { maxBuffer: 1 << 28 });
          expect(r.status, `${cmd} ${args.join(' ')}`).toBe(0);
          expect(r.stderr.toString(), `${cmd} ${args.join(' ')}`).toBe('');
          expect(r.stdout.toString()).not.toMatch(/\bWarning\b/); // (macro text may say 'warning')
        }
      }
      const dd = execFileSync('readelf', ['--debug-dump=info,line', join(root, key('co-aa1', c.id, 'prog') + '.norm')]).toString();
      expect(dd).toContain('/build/src');
    });
  }
  it('normalized programs run', () => {
    for (const c of CONFIGS) {
      const dir = join(root, 'run', c.id);
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(root, key('co-aa1', c.id, 'prog') + '.norm'), join(dir, 'prog'));
      copyFileSync(join(root, key('co-aa1', c.id, 'libfoo.so') + '.norm'), join(dir, 'libfoo.so'));
      chmodSync(join(dir, 'prog'), 0o755);
      expect(execFileSync(join(dir, 'prog'), { env: { LD_LIBRARY_PATH: dir } }).toString()).toBe('6 3\n');
    }
  });
  it('normalized static libraries list, index and link', () => {
    for (const c of CONFIGS) {
      const dir = join(root, 'link', c.id);
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(root, key('co-aa1', c.id, 'libutil.a') + '.norm'), join(dir, 'libutil.a'));
      copyFileSync(join(root, key('co-aa1', c.id, 'main.o') + '.norm'), join(dir, 'main.o'));
      copyFileSync(join(root, key('co-aa1', c.id, 'libfoo.so') + '.norm'), join(dir, 'libfoo.so'));
      expect(execFileSync('ar', ['t', join(dir, 'libutil.a')]).toString()).toBe('util.o\n');
      expect(execFileSync('nm', ['--print-armap', join(dir, 'libutil.a')]).toString()).toMatch(/util_add in util\.o/);
      execFileSync('gcc', ['-o', join(dir, 'prog'), join(dir, 'main.o'), join(dir, 'libutil.a'), `-L${dir}`, '-lfoo']);
      expect(execFileSync(join(dir, 'prog'), { env: { LD_LIBRARY_PATH: dir } }).toString()).toBe('6 3\n');
    }
  });
  it.skipIf(!HAVE || !haveTool('gdb'))('gdb names /build/src/main.c', () => {
    for (const c of CONFIGS.filter((x) => ['O0-dwarf5', 'O2-dwarf4-gz'].includes(x.id))) {
      const p = join(root, key('co-aa1', c.id, 'prog') + '.norm');
      const r = spawnSync('gdb', ['-nx', '-batch', '-ex', 'info line main', p]);
      expect(r.stdout.toString(), c.id).toMatch(/Line \d+ of "\/build\/src\/main\.c"/);
    }
  });
});

describe.skipIf(!HAVE)('ELF: a replacement longer than the build path', () => {
  const LONG = '/a/much/longer/build/directory/than/the/temporary/checkout/it/replaces/src';
  for (const id of ['O0-dwarf4', 'O2-dwarf4-nomerge', 'O2-dwarf5-gz']) {
    it(id, async () => {
      for (const f of ['main.o', 'prog']) {
        const outs = [];
        for (const t of ['co-aa1', 'co-bb2']) {
          const r = await norm(raw(t, id, f), f, { mapPaths: [{ from: tree(t), to: LONG }] });
          expect(r.status, r.reason).toBe('changed');
          outs.push(r.output);
        }
        expect(bytesEqual(outs[0]!, outs[1]!), `${id}/${f}`).toBe(true);
        const p = join(root, `${id}-${f}.long`);
        writeFileSync(p, outs[0]!);
        const r = spawnSync('readelf', ['--debug-dump', p], { maxBuffer: 1 << 28 });
        expect(r.stderr.toString()).toBe('');
        expect(r.stdout.toString()).toContain(LONG);
        expect(spawnSync('objdump', ['--dwarf=decodedline', p]).stderr.toString()).toBe('');
      }
    });
  }
});

describe.skipIf(!HAVE)('ELF: idempotence', () => {
  it('normalizing an output again changes nothing', async () => {
    for (const t of TREES) for (const c of CONFIGS) for (const f of ['main.o', 'prog', 'libfoo.so', 'libutil.a']) {
      const r = out(t, c.id, f);
      const again = await norm(r.output, f, optsFor(t));
      expect(again.status, `${t}/${c.id}/${f}: ${JSON.stringify(again.changes)}`).toBe('unchanged');
    }
  });
  it('build-ids were verified and recomputed, never kept by mistake', () => {
    for (const t of TREES) for (const c of CONFIGS) for (const f of ['prog', 'libfoo.so']) {
      const r = out(t, c.id, f);
      expect(r.notices.filter((n) => n.includes('build-id')), `${t}/${c.id}/${f}`).toEqual([]);
      expect(findBuildId(parseElf(r.output))).toBeDefined();
    }
  });
});
