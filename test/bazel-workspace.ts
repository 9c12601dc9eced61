// Generated Bazel workspaces for the e2e tests and the benchmark: the example's detnorm.bzl and
// detnorm.BUILD.bazel, the bundle from dist/, and a package of N raw archives (made by one
// genrule) with one detnorm_normalize target each. Bazel runs with a private output_user_root.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname;
const EXAMPLE = join(ROOT, 'examples/bazel');

/** The directory of the node running now; put first on the actions' PATH when not in /bin, /usr/bin, /usr/local/bin. */
export function pathFlags(): string[] {
  const nodeDir = dirname(realpathSync(process.execPath));
  const strict = ['/bin', '/usr/bin', '/usr/local/bin'];
  return strict.includes(nodeDir) ? [] : [`--action_env=PATH=${[nodeDir, ...strict].join(':')}`];
}

/** One raw archive per index, with times and member order that depend on it. */
const GEN = `
import sys, zipfile, tarfile, io, time
for i, out in enumerate(sys.argv[1:]):
    names = ['pkg/f%d.txt' % ((j * 7 + i) % 5) for j in range(5)]
    if out.endswith('.zip'):
        with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
            for j, n in enumerate(names):
                z.writestr(zipfile.ZipInfo(n, date_time=time.gmtime(1000000000 + 3600 * i + j)[:6]), ('%s of %d\\n' % (n, i)) * 20)
    else:
        with tarfile.open(out, 'w:gz') as t:
            for j, n in enumerate(names):
                data = (('%s of %d\\n' % (n, i)) * 20).encode()
                ti = tarfile.TarInfo(n)
                ti.size, ti.mtime, ti.uid, ti.uname = len(data), 1000000000 + 3600 * i + j, 1000 + i, 'user%d' % i
                t.addfile(ti, io.BytesIO(data))
`;

export interface Workspace {
  readonly ws: string;
  readonly outRoot: string;
  bazel(args: string[], env?: NodeJS.ProcessEnv): SpawnSyncReturns<string>;
  /** The raw and normalized archives by name (raw0.zip, nraw0.zip, ...). */
  outputs(): Map<string, Buffer>;
}

/**
 * A workspace in `dir` with `n` detnorm_normalize targets in package `many` (every fifth a
 * .tar.gz; `attrs(i)` adds attributes to target i).
 */
export function makeWorkspace(dir: string, n: number, attrs: (i: number) => string = () => ''): Workspace {
  const ws = join(dir, 'ws');
  mkdirSync(join(ws, 'many'), { recursive: true });
  for (const f of ['detnorm.bzl', 'detnorm.BUILD.bazel', 'BUILD.bazel']) cpSync(join(EXAMPLE, f), join(ws, f));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  writeFileSync(join(ws, 'WORKSPACE'), `workspace(name = "detnorm_worker_e2e")\nnew_local_repository(name = "detnorm", build_file = "//:detnorm.BUILD.bazel", path = "../dist")\n`);
  const raw = (i: number) => `raw${i}.${i % 5 === 4 ? 'tar.gz' : 'zip'}`;
  const lines = ['load("//:detnorm.bzl", "detnorm_normalize")', ''];
  lines.push(`genrule(name = "raws", srcs = ["gen.py"], outs = ${JSON.stringify(Array.from({ length: n }, (_, i) => raw(i)))}, cmd = "python3 $(location gen.py) $(OUTS)")`);
  for (let i = 0; i < n; i++) {
    const extra = attrs(i);
    lines.push(`detnorm_normalize(name = "n${i}", src = "${raw(i)}", out = "n${raw(i)}", timestamp = 1700000000${extra ? `, ${extra}` : ''})`);
  }
  writeFileSync(join(ws, 'many/BUILD.bazel'), lines.join('\n') + '\n');
  writeFileSync(join(ws, 'many/gen.py'), GEN);
  const outRoot = join(dir, 'output-user-root');
  return {
    ws,
    outRoot,
    bazel: (args, env = {}) =>
      spawnSync('bazel', ['--nohome_rc', `--output_user_root=${outRoot}`, ...args], { cwd: ws, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 }),
    outputs: () => {
      const bin = join(ws, 'bazel-bin/many');
      return new Map(readdirSync(bin).filter((f) => /^n?raw\d+\.(zip|tar\.gz)$/.test(f)).map((f) => [f, readFileSync(join(bin, f))]));
    },
  };
}
