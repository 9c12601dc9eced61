// ELF bench (issue 7): a large C++ debug binary (each translation unit instantiates many
// standard-library templates, so its DWARF is a few MB), mapped with --map-path, timed next to
// `debugedit -b OLD -d NEW -i` on the same file.
//   node --import tsx bench/elf-bench.mjs [--dir DIR] [--files 16] [--runs 3]
// The build is cached in DIR (default $TMPDIR/detnorm-elf-bench) and reused by later runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: join(tmpdir(), 'detnorm-elf-bench') },
    files: { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
  },
});
const files = Number(values.files);
const runs = Number(values.runs);
const checkout = join(values.dir, 'checkout-of-a-project-in-a-rather-long-build-directory');
const src = join(checkout, 'src');
const big = join(checkout, 'build', 'big');

const HEAD = ['iostream', 'map', 'vector', 'string', 'sstream', 'algorithm', 'memory', 'functional', 'set', 'unordered_map'].map((h) => `#include <${h}>\n`).join('');
function unit(f) {
  let s = HEAD;
  for (let n = 0; n < 30; n++) {
    const i = `${f}_${n}`;
    s += `namespace n${i} {
struct Rec${i} { std::string name; std::vector<int> vals; std::map<std::string, double> attrs; int k; };
struct Key${i} { long a, b; bool operator<(const Key${i} &o) const { return a < o.a; } };
int work(int k) {
  std::map<std::string, std::vector<Rec${i}>> m; std::set<Key${i}> s; std::unordered_map<long, Rec${i}> um;
  std::ostringstream os;
  for (int i = 0; i < k; i++) { Rec${i} r; r.name = std::to_string(i); r.vals.push_back(i); r.attrs["a"] = i; m[r.name].push_back(r); os << r.name; s.insert(Key${i}{i, i}); um[i] = r; }
  std::vector<std::shared_ptr<Rec${i}>> v; v.push_back(std::make_shared<Rec${i}>());
  std::function<int(int)> f = [&](int x) { return x + (int)m.size() + (int)s.size(); };
  std::sort(v.begin(), v.end(), [](auto &a, auto &b) { return a->name < b->name; });
  return f((int)os.str().size());
}
}
`;
  }
  return s;
}

if (!existsSync(big)) {
  mkdirSync(src, { recursive: true });
  mkdirSync(join(checkout, 'build'), { recursive: true });
  let main = '';
  for (let f = 0; f < files; f++) {
    writeFileSync(join(src, `u${f}.cpp`), unit(f));
    main += `namespace n${f}_0 { int work(int); }\n`;
  }
  main += `int main(int argc, char **) { int t = 0;\n${Array.from({ length: files }, (_, f) => `  t += n${f}_0::work(argc);\n`).join('')}  return t == 0; }\n`;
  writeFileSync(join(src, 'main.cpp'), main);
  console.log(`building ${files} translation units in ${checkout} ...`);
  const t0 = performance.now();
  const names = [...Array.from({ length: files }, (_, f) => `u${f}`), 'main'];
  execFileSync('xargs', ['-P', String(cpus().length), '-I{}', 'g++', '-g', '-O0', '-c', `${src}/{}.cpp`, '-o', '{}.o'], {
    cwd: join(checkout, 'build'),
    input: names.join('\n'),
  });
  execFileSync('g++', ['-g', '-o', 'big', ...names.map((n) => `${n}.o`)], { cwd: join(checkout, 'build') });
  console.log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const size = statSync(big).size;
console.log(`input: ${big} (${(size / 1e6).toFixed(1)} MB)`);

// The library's file entry point, in place on a copy (as `debugedit -i` runs on its copy):
// open, read, normalize, atomic replace. The copy is not timed, for either tool.
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
  copyFileSync(big, `${big}.debugedit`);
  const t0 = performance.now();
  const p = spawnSync('debugedit', ['-b', checkout, '-d', '/build/src', '-i', `${big}.debugedit`]);
  theirs.push(performance.now() - t0);
  if (p.status !== 0) throw new Error(`debugedit failed: ${p.stderr}`);
}
const leftover = (f) => readFileSync(f).includes(Buffer.from(checkout));
console.log(`detnorm  --map-path: median ${median(ours).toFixed(0)} ms over ${runs} runs (${ours.map((x) => x.toFixed(0)).join(', ')}); status ${last.status}; changes ${(last.changes ?? []).map((c) => c.kind).join(',')}; old path left: ${leftover(`${big}.detnorm`)}`);
console.log(`debugedit -b -d -i : median ${median(theirs).toFixed(0)} ms over ${runs} runs (${theirs.map((x) => x.toFixed(0)).join(', ')}); old path left: ${leftover(`${big}.debugedit`)}`);
console.log(`ratio detnorm/debugedit: ${(median(ours) / median(theirs)).toFixed(2)}`);
