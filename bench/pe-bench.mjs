// PE bench (issue 18): a large mingw-w64 program with DWARF (-g3: every translation unit
// includes <windows.h>, so .debug_macro and .debug_str carry its macros, as real Windows code
// built on Linux CI does), built in a long checkout path, mapped with --map-path; timed next to
// `x86_64-w64-mingw32-objcopy` rewriting the same file (a plain copy through BFD, the cheapest
// rewrite binutils offers for a PE image).
//   node --import tsx bench/pe-bench.mjs [--dir DIR] [--files 24] [--funcs 400] [--runs 3]
// The build is cached in DIR (default $TMPDIR/detnorm-pe-bench) and reused by later runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: join(tmpdir(), 'detnorm-pe-bench') },
    files: { type: 'string', default: '24' },
    funcs: { type: 'string', default: '400' },
    runs: { type: 'string', default: '3' },
  },
});
const files = Number(values.files);
const funcs = Number(values.funcs);
const runs = Number(values.runs);
const checkout = join(values.dir, 'checkout-of-a-windows-project-in-a-rather-long-build-directory');
const src = join(checkout, 'src');
const build = join(checkout, 'build');
const big = join(build, 'big.exe');
const CC = 'x86_64-w64-mingw32-gcc';

function unit(f) {
  let s = '#include <windows.h>\n#include <stdio.h>\n#include <string.h>\n';
  for (let n = 0; n < funcs; n++) {
    const i = `${f}_${n}`;
    s += `struct rec_${i} { int id; double weight; char name[24]; struct rec_${i} *next; };
static int helper_${i}(struct rec_${i} *r, int k) { int t = 0; for (; r; r = r->next) t += r->id * k + (int)strlen(r->name); return t; }
int work_${i}(int k) {
  struct rec_${i} a = { k, 1.5, "unit ${i}", 0 }, b = { k + 1, 2.5, "next ${i}", &a };
  char buf[64]; snprintf(buf, sizeof buf, "%s/%d", "${i}", GetCurrentProcessId() & 1);
  return helper_${i}(&b, k) + (int)strlen(buf);
}
`;
  }
  return s;
}

if (!existsSync(big)) {
  mkdirSync(src, { recursive: true });
  mkdirSync(build, { recursive: true });
  let main = '#include <stdio.h>\n';
  for (let f = 0; f < files; f++) {
    writeFileSync(join(src, `u${f}.c`), unit(f));
    main += `int work_${f}_0(int);\n`;
  }
  main += `int main(int argc, char **argv) { int t = 0;\n${Array.from({ length: files }, (_, f) => `  t += work_${f}_0(argc);\n`).join('')}  printf("%d\\n", t); return 0; }\n`;
  writeFileSync(join(src, 'main.c'), main);
  console.log(`building ${files} translation units of ${funcs} functions in ${checkout} ...`);
  const t0 = performance.now();
  const names = [...Array.from({ length: files }, (_, f) => `u${f}`), 'main'];
  execFileSync('xargs', ['-P', String(cpus().length), '-I{}', CC, '-g3', '-O0', '-c', `${src}/{}.c`, '-o', '{}.o'], { cwd: build, input: names.join('\n') });
  execFileSync(CC, ['-g3', '-o', 'big.exe', ...names.map((n) => `${n}.o`)], { cwd: build });
  console.log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const size = statSync(big).size;
console.log(`input: ${big} (${(size / 1e6).toFixed(1)} MB)`);

// The library's file entry point, in place on a copy (the copy is not timed, for either tool).
const { normalizeFile } = await import('../src/api.ts');
const mapPaths = [{ from: checkout, to: '/build/src' }];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours = [];
let last;
for (let r = 0; r < runs; r++) {
  copyFileSync(big, `${big}.detnorm`);
  const t0 = performance.now();
  last = await normalizeFile(`${big}.detnorm`, { mapPaths });
  ours.push(performance.now() - t0);
}
const theirs = [];
for (let r = 0; r < runs; r++) {
  rmSync(`${big}.objcopy`, { force: true });
  const t0 = performance.now();
  const p = spawnSync('x86_64-w64-mingw32-objcopy', [big, `${big}.objcopy`]);
  theirs.push(performance.now() - t0);
  if (p.status !== 0) throw new Error(`objcopy failed: ${p.stderr}`);
}
const leftover = (f) => readFileSync(f).includes(Buffer.from(checkout));
const outSize = statSync(`${big}.detnorm`).size;
console.log(`detnorm --map-path : median ${median(ours).toFixed(0)} ms over ${runs} runs (${ours.map((x) => x.toFixed(0)).join(', ')}); status ${last.status}; changes ${(last.changes ?? []).map((c) => c.kind).join(',')}; ${(outSize / 1e6).toFixed(1)} MB out; old path left: ${leftover(`${big}.detnorm`)}`);
console.log(`objcopy IN OUT     : median ${median(theirs).toFixed(0)} ms over ${runs} runs (${theirs.map((x) => x.toFixed(0)).join(', ')}); old path left: ${leftover(`${big}.objcopy`)}`);
console.log(`ratio detnorm/objcopy: ${(median(ours) / median(theirs)).toFixed(2)}`);
