// PE/COFF: real cross builds of one small C project (a program, a DLL with exports and
// resources from windres, a static library and the DLL's import library) with Debian's
// mingw-w64 gcc for x86-64 and i686 and with clang + lld (mingw target), each in two checkouts
// of different path lengths and with other clocks (SOURCE_DATE_EPOCH for GNU ld, /timestamp
// for lld), with and without -g, and a third built with -ffile-prefix-map; then the reference
// tools (objdump -p, pefile, llvm-dwarfdump --verify), wine, and linking against the outputs.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesEqual } from '../src/io.js';
import type { Options } from '../src/types.js';
import { haveTool, norm, tempDir } from './helpers.js';
import { pefilePython, pefileView, wineRunner } from './pe-helpers.js';

const HAVE =
  haveTool('x86_64-w64-mingw32-gcc') && haveTool('i686-w64-mingw32-gcc') && haveTool('x86_64-w64-mingw32-windres') && haveTool('i686-w64-mingw32-windres') &&
  haveTool('x86_64-w64-mingw32-objdump') && haveTool('i686-w64-mingw32-objdump') && haveTool('clang') && haveTool('ld.lld') && haveTool('llvm-ar') && haveTool('llvm-dwarfdump');
const PY = HAVE ? pefilePython() : undefined;
const HAVE_WINE = HAVE && haveTool('wine');

const SOURCES: Record<string, string> = {
  'main.c':
    '#include <stdio.h>\n__declspec(dllimport) int lib_twice(int x);\n__declspec(dllimport) int lib_name(char *buf, int n);\nint util_add(int, int);\n' +
    'int main(void) {\n  char buf[64];\n  int n = lib_name(buf, sizeof buf);\n  printf("%d %d %.*s\\n", lib_twice(3), util_add(1, 2), n, buf);\n  return 0;\n}\n',
  'lib.c':
    '#include <windows.h>\n__declspec(dllexport) int lib_twice(int x) { return 2 * x; }\n' +
    '__declspec(dllexport) int lib_name(char *buf, int n) { return LoadStringA(GetModuleHandleA("lib.dll"), 1, buf, n); }\n',
  'lib.rc': 'STRINGTABLE\nBEGIN\n  1 "hello from resources"\nEND\n1 VERSIONINFO\nFILEVERSION 1,2,3,4\nBEGIN\n  BLOCK "StringFileInfo"\n  BEGIN\n    BLOCK "040904b0"\n    BEGIN\n      VALUE "FileDescription", "detnorm test DLL"\n    END\n  END\nEND\n',
  'util.c': 'struct point { int x, y; };\nint util_add(int a, int b) {\n  struct point p = {a, b};\n  return p.x + p.y;\n}\n',
};
const EXPECTED = /^6 3 hello from resources\r?\n$/;

// Sources are compiled by absolute path from a build directory inside the checkout.
const BUILD_SH = `#!/bin/sh
set -e
S=$1; O=$2; F=$3
mkdir -p "$O"; cd "$O"
$CC $F -c "$S/main.c" "$S/util.c" "$S/lib.c"
$WINDRES "$S/lib.rc" -o lib_rc.o
$CC $F -shared -o lib.dll lib.o lib_rc.o -Wl,--out-implib,libfoo.dll.a $LDCLOCK
$AR rcs libutil.a util.o
$CC $F -o prog.exe main.o libutil.a -L. -lfoo $LDCLOCK
`;

function gccLibDir(): string {
  return dirname(execFileSync('x86_64-w64-mingw32-gcc', ['-print-libgcc-file-name']).toString().trim());
}

interface Toolchain {
  readonly id: string;
  readonly cc: string;
  readonly windres: string;
  readonly ar: string;
  readonly objdump: string;
  /** Link flags that set the clock to `t`. */
  clock(t: number): { env: Record<string, string>; ld: string };
}
const TOOLCHAINS: Toolchain[] = [
  { id: 'gcc-x86_64', cc: 'x86_64-w64-mingw32-gcc', windres: 'x86_64-w64-mingw32-windres', ar: 'x86_64-w64-mingw32-ar', objdump: 'x86_64-w64-mingw32-objdump', clock: (t) => ({ env: { SOURCE_DATE_EPOCH: String(t) }, ld: '' }) },
  { id: 'gcc-i686', cc: 'i686-w64-mingw32-gcc', windres: 'i686-w64-mingw32-windres', ar: 'i686-w64-mingw32-ar', objdump: 'i686-w64-mingw32-objdump', clock: (t) => ({ env: { SOURCE_DATE_EPOCH: String(t) }, ld: '' }) },
  {
    id: 'clang-lld-x86_64',
    cc: HAVE ? `clang --target=x86_64-w64-mingw32 -fuse-ld=lld -L${gccLibDir()}` : '',
    windres: 'x86_64-w64-mingw32-windres',
    ar: 'llvm-ar',
    objdump: 'x86_64-w64-mingw32-objdump',
    clock: (t) => ({ env: {}, ld: `-Wl,--Xlink=-timestamp:${t}` }),
  },
];
const CONFIGS = [
  { id: 'g', flags: '-g -O1', debug: true },
  { id: 'nog', flags: '-O2', debug: false },
];
const TREES = [
  { id: 'co-aa1', clock: 1_000_000_000 },
  { id: 'checkout-bb22', clock: 1_700_000_000 },
];
const OBJECTS = ['main.o', 'util.o', 'lib.o', 'lib_rc.o'];
const OUTPUTS = [...OBJECTS, 'libutil.a', 'libfoo.dll.a', 'lib.dll', 'prog.exe'];
const IMAGES = ['lib.dll', 'prog.exe'];

const tmp = HAVE ? tempDir('detnorm-pe-') : { dir: '', cleanup: () => {} };
const root = tmp.dir;
const tree = (t: string) => join(root, t);
const outDir = (t: string, tc: string, c: string) => join(tree(t), `${tc}-${c}`);
type Result = Awaited<ReturnType<typeof norm>>;
const results = new Map<string, Result>();
const key = (t: string, tc: string, c: string, f: string) => `${t}/${tc}-${c}/${f}`;
const raw = (t: string, tc: string, c: string, f: string) => readFileSync(join(outDir(t, tc, c), f));
const out = (t: string, tc: string, c: string, f: string) => results.get(key(t, tc, c, f))!;
const normPath = (t: string, tc: string, c: string, f: string) => join(root, 'norm', t, `${tc}-${c}`, f);

function optsFor(t: string): Partial<Options> {
  return t === 'fpm' ? {} : { mapPaths: [{ from: tree(t), to: '/build/src' }] };
}

beforeAll(async () => {
  if (!HAVE) return;
  writeFileSync(join(root, 'build.sh'), BUILD_SH);
  chmodSync(join(root, 'build.sh'), 0o755);
  const jobs: Array<{ args: string[]; env: Record<string, string> }> = [];
  for (const t of [...TREES, { id: 'fpm', clock: 1_200_000_000 }]) {
    mkdirSync(tree(t.id));
    for (const [name, text] of Object.entries(SOURCES)) writeFileSync(join(tree(t.id), name), text);
    for (const tc of TOOLCHAINS) {
      for (const c of CONFIGS) {
        if (t.id === 'fpm' && (tc.id !== 'gcc-x86_64' || !c.debug)) continue;
        const clock = tc.clock(t.clock);
        const flags = c.flags + (t.id === 'fpm' ? ` -ffile-prefix-map=${tree(t.id)}=/build/src` : '');
        jobs.push({ args: [tree(t.id), outDir(t.id, tc.id, c.id), flags], env: { ...clock.env, CC: tc.cc, WINDRES: tc.windres, AR: tc.ar, LDCLOCK: clock.ld } });
      }
    }
  }
  // Two builds at a time.
  const run = async (j: (typeof jobs)[number]) =>
    new Promise<void>((resolve, reject) => {
      const child = spawn(join(root, 'build.sh'), j.args, { env: { ...process.env, ...j.env }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code: number) => (code === 0 ? resolve() : reject(new Error(`build ${j.args.join(' ')} failed: ${err}`))));
    });
  const queue = [...jobs];
  await Promise.all([0, 1].map(async () => {
    for (let j = queue.shift(); j; j = queue.shift()) await run(j);
  }));
  for (const t of [...TREES.map((x) => x.id), 'fpm']) {
    for (const tc of TOOLCHAINS) for (const c of CONFIGS) {
      if (t === 'fpm' && (tc.id !== 'gcc-x86_64' || !c.debug)) continue;
      mkdirSync(join(root, 'norm', t, `${tc.id}-${c.id}`), { recursive: true });
      for (const f of OUTPUTS) {
        const r = await norm(raw(t, tc.id, c.id, f), f, optsFor(t));
        results.set(key(t, tc.id, c.id, f), r);
        writeFileSync(normPath(t, tc.id, c.id, f), r.output);
      }
    }
  }
}, 600_000);

afterAll(() => tmp.cleanup());

describe.skipIf(!HAVE)('PE convergence: two checkouts and clocks, mapped with --map-path, are byte-identical', () => {
  for (const tc of TOOLCHAINS) for (const c of CONFIGS) {
    it(`${tc.id} ${c.flags}`, () => {
      for (const f of OUTPUTS) {
        const a = out('co-aa1', tc.id, c.id, f);
        const b = out('checkout-bb22', tc.id, c.id, f);
        expect(a.status, `${f}: ${a.reason ?? ''}`).not.toBe('error');
        expect(b.status, `${f}: ${b.reason ?? ''}`).not.toBe('error');
        expect(bytesEqual(a.output, b.output), `${tc.id}-${c.id}/${f}`).toBe(true);
        expect(Buffer.from(a.output).includes(Buffer.from(tree('co-aa1'))), `${f} still holds the checkout path`).toBe(false);
      }
      // The inputs did differ: the stamps (other clocks) at least, and the paths with -g.
      for (const f of IMAGES) expect(bytesEqual(raw('co-aa1', tc.id, c.id, f), raw('checkout-bb22', tc.id, c.id, f)), `${f} differs before`).toBe(false);
      if (c.debug) for (const f of ['main.o', 'libutil.a']) expect(bytesEqual(raw('co-aa1', tc.id, c.id, f), raw('checkout-bb22', tc.id, c.id, f)), `${f} differs before`).toBe(false);
    });
  }
});

describe.skipIf(!HAVE)('PE: equal to a -ffile-prefix-map build of the same project, normalized', () => {
  it('gcc-x86_64 -g', () => {
    for (const f of OUTPUTS) {
      expect(bytesEqual(out('co-aa1', 'gcc-x86_64', 'g', f).output, out('fpm', 'gcc-x86_64', 'g', f).output), f).toBe(true);
    }
  });
});

describe.skipIf(!HAVE)('PE: idempotence', () => {
  it('normalizing an output again changes nothing', async () => {
    for (const [k, r] of results) {
      const f = k.slice(k.lastIndexOf('/') + 1);
      const again = await norm(r.output, f, optsFor(k.slice(0, k.indexOf('/'))));
      expect(again.status, `${k}: ${JSON.stringify(again.changes)}`).toBe('unchanged');
    }
  });
});

describe.skipIf(!HAVE)('PE: what changed, and what was reported', () => {
  it('images: stamps from the content, the CheckSum recomputed when GNU ld wrote one', () => {
    const changes = (tc: string, f: string) => out('co-aa1', tc, 'g', f).changes.map((c) => c.what).join('\n');
    expect(changes('gcc-x86_64', 'prog.exe')).toMatch(/COFF header TimeDateStamp -> 0x[0-9a-f]+ \(hash of the content/);
    expect(changes('gcc-x86_64', 'prog.exe')).toMatch(/CheckSum recomputed/);
    expect(changes('gcc-x86_64', 'lib.dll')).toMatch(/export directory TimeDateStamp -> 0/);
    expect(changes('clang-lld-x86_64', 'prog.exe')).toMatch(/CodeView GUID and age derived from the content/);
    for (const [k, r] of results) expect(r.notices.filter((n) => !n.includes('not fixable')), k).toEqual([]);
  });
});

describe.skipIf(!HAVE || !PY)('PE: reference tools read every output without warnings', () => {
  for (const tc of TOOLCHAINS) for (const c of CONFIGS) {
    it(`${tc.id} ${c.flags}`, () => {
      for (const f of [...IMAGES, ...OBJECTS]) {
        const p = normPath('co-aa1', tc.id, c.id, f);
        const image = IMAGES.includes(f);
        // (Images always carry DWARF: the mingw-w64 runtime's.)
        const args = [image ? ['-p', '-h', p] : ['-h', '-t', '-r', p], ...(c.debug || image ? [['--dwarf=info,line', p]] : [])];
        for (const a of args) {
          const r = spawnSync(tc.objdump, a, { maxBuffer: 1 << 28 });
          expect(r.status, `${tc.objdump} ${a.join(' ')}`).toBe(0);
          expect(r.stderr.toString(), `${tc.objdump} ${a.join(' ')}`).toBe('');
          expect(r.stdout.toString()).not.toMatch(/\bwarning\b/i);
        }
        // (llvm-dwarfdump --verify takes minutes on a mingw image's runtime DWARF: objects only.)
        if (c.debug && !image && f !== 'lib_rc.o') {
          const v = spawnSync('llvm-dwarfdump', ['--verify', p], { maxBuffer: 1 << 28 });
          expect(v.stdout.toString(), `llvm-dwarfdump --verify ${f}`).toMatch(/No errors\./);
        }
      }
      const views = pefileView(PY!, IMAGES.map((f) => normPath('co-aa1', tc.id, c.id, f)));
      for (const v of views) {
        expect(v.warnings, v.file).toEqual([]);
        expect(v.checksumOk, v.file).toBe(true);
        for (const d of v.debug) expect(d.stamp, `${v.file} debug entry`).toBe(v.stamp);
      }
      if (c.debug) {
        const lines = execFileSync(tc.objdump, ['--dwarf=line', normPath('co-aa1', tc.id, c.id, 'prog.exe')], { maxBuffer: 1 << 28 }).toString();
        expect(lines).toContain('/build/src');
      }
    });
  }
});

describe.skipIf(!HAVE || !PY)('PE: loaded sections keep their place and bytes but for stamps and debug identity', () => {
  for (const tc of TOOLCHAINS) for (const c of CONFIGS) {
    it(`${tc.id} ${c.flags}`, () => {
      for (const f of IMAGES) {
        const before = readFileSync(join(outDir('co-aa1', tc.id, c.id), f));
        const after = readFileSync(normPath('co-aa1', tc.id, c.id, f));
        const [vb, va] = pefileView(PY!, [join(outDir('co-aa1', tc.id, c.id), f), normPath('co-aa1', tc.id, c.id, f)]) as [ReturnType<typeof pefileView>[0], ReturnType<typeof pefileView>[0]];
        // Field ranges pefile finds in the output (the same places as in the input).
        const allowed = (x: number) => va.ranges.some(([at, n]) => x >= at && x < at + n);
        for (const s of vb.sections) {
          if (s.name.startsWith('/') || s.name.startsWith('.debug')) continue; // debug sections (long names) may move
          const t = va.sections.find((x) => x.name === s.name && x.va === s.va)!;
          expect(t, `${f} ${s.name}`).toBeDefined();
          expect([t.ptr, t.size, t.vsize, t.chars], `${f} ${s.name} header`).toEqual([s.ptr, s.size, s.vsize, s.chars]);
          const bad: number[] = [];
          for (let i = s.ptr; i < s.ptr + s.size; i++) if (before[i] !== after[i] && !allowed(i)) bad.push(i);
          expect(bad.slice(0, 8), `${tc.id}-${c.id}/${f} ${s.name}: bytes changed outside stamp and debug identity fields`).toEqual([]);
        }
      }
    });
  }
});

describe.skipIf(!HAVE_WINE)('PE: normalized programs run under wine and print what the originals print', () => {
  let wine: ReturnType<typeof wineRunner>;
  beforeAll(() => {
    wine = wineRunner(root);
  });
  for (const tc of TOOLCHAINS) for (const c of CONFIGS) {
    it(`${tc.id} ${c.flags}`, () => {
      const dir = join(root, 'run', `${tc.id}-${c.id}`);
      for (const [sub, from] of [['orig', (f: string) => join(outDir('co-aa1', tc.id, c.id), f)], ['norm', (f: string) => normPath('co-aa1', tc.id, c.id, f)]] as const) {
        mkdirSync(join(dir, sub), { recursive: true });
        for (const f of IMAGES) copyFileSync(from(f), join(dir, sub, f));
      }
      const a = wine('prog.exe', join(dir, 'orig'));
      const b = wine('prog.exe', join(dir, 'norm'));
      expect(a.stdout, a.stderr).toMatch(EXPECTED);
      expect(b.stdout, b.stderr).toBe(a.stdout);
      expect(b.status).toBe(0);
    }, 300_000);
  }
  it('the normalized import library, static library and objects still link, and the DLL loads', () => {
    for (const tc of TOOLCHAINS) {
      const dir = join(root, 'link', tc.id);
      mkdirSync(dir, { recursive: true });
      for (const f of ['main.o', 'libutil.a', 'libfoo.dll.a', 'lib.dll']) copyFileSync(normPath('co-aa1', tc.id, 'g', f), join(dir, f));
      execFileSync('sh', ['-c', `${tc.cc} -o prog.exe main.o libutil.a -L. -lfoo`], { cwd: dir });
      expect(wine('prog.exe', dir).stdout, tc.id).toMatch(EXPECTED);
    }
  }, 300_000);
});
