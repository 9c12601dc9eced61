// Filter mode (`detnorm - < in > out`) has no file name: the format, and a zip's flavour (jar,
// wheel, apk, jmod), are told from the bytes, and a name (given with --stdin-name, or the file's
// own) only breaks a tie the bytes leave open. So every corpus input gives the same bytes
// through `-` with no name, and with a misleading one, as in file mode under its real name.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProbe, normalizeBytes, selectHandler } from '../src/engine.js';
import { BufferSource } from '../src/io.js';
import { defaultOptions, optionsFromJson } from '../src/options.js';
import { DEFAULT_LIMITS, type Options } from '../src/types.js';
import { HANDLERS } from '../formats/index.js';
import { contentFlavor, flavorOfName } from '../formats/zip/flavor.js';
import { readArchive } from '../formats/zip/reader.js';
import { haveTool, missingTool, run, tempDir } from './helpers.js';

const ROOT = new URL('../corpus/', import.meta.url).pathname;
const SIDE = /\.(out|json|error|md|fixed|c|java|py|gitignore|gitattributes)$/;
/** The name `detnorm -` uses when no --stdin-name is given (src/cli.ts). */
const NO_NAME = '-';
/**
 * Text formats whose bytes alone are too weak a signal (any HTML page, any file starting with
 * a "#date" comment): they are claimed only under their extension, so a filter needs
 * --stdin-name for them. Compressed tars (.tar.xz...) are told from a bare .xz only by name.
 */
const NAME_GATED = new Set(['javadoc', 'javaproperties', 'tar-compressed']);

function inputs(dir = ROOT): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) out.push(...inputs(p));
    else if (!SIDE.test(f) && !f.startsWith('.')) out.push(p);
  }
  return out;
}

/** The name a file has in file mode: its base name (a peer fixture's without `.in`). */
function realName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1).replace(/\.in$/, '');
}

function optionsFor(file: string): Options {
  return existsSync(`${file}.json`) ? optionsFromJson(JSON.parse(readFileSync(`${file}.json`, 'utf8'))) : defaultOptions({ timestamp: 1423159771 });
}

async function contentHandler(input: Uint8Array, options: Options): Promise<string | undefined> {
  return selectHandler(await makeProbe(new BufferSource(input), NO_NAME), HANDLERS, options.formats)?.name;
}

/** A zip's flavour from its bytes alone (undefined: a tie, which the name breaks). */
async function zipContentFlavor(input: Uint8Array): Promise<string | undefined> {
  const arc = await readArchive(new BufferSource(input), DEFAULT_LIMITS);
  const prefix = input.subarray(0, arc.prefixLength);
  return contentFlavor(arc.entries, prefix, arc.signingBlock);
}

const MISLEADING = ['misleading.jar', 'misleading.whl', 'misleading.apk', 'misleading.zip', 'misleading.tar.gz', 'misleading.a'];

const all = inputs().filter((f) => !f.includes('/python_stdlib/') || /\/3\.1[12]\//.test(f));

describe('filter mode: every corpus input gives the bytes of file mode, without a name or with a misleading one', () => {
  it('has cases from every family', () => expect(all.length).toBeGreaterThan(150));
  for (const file of all) {
    const rel = file.slice(ROOT.length);
    it(rel, async () => {
      const input = readFileSync(file);
      const options = optionsFor(file);
      const name = realName(file);
      const fileMode = await normalizeBytes(input, name, options, HANDLERS);
      const byContent = await contentHandler(input, options);
      const filter = await normalizeBytes(input, NO_NAME, options, HANDLERS);
      if (!byContent) {
        // Nothing in the bytes: only a name-gated format, or a file its name claims wrongly
        // (a .gz that is not gzip, an ld script named .a: reported in file mode), needed the name.
        expect(NAME_GATED.has(fileMode.format ?? '') || ['error', 'untouched', 'ignored'].includes(fileMode.status), `${rel}: ${fileMode.format} ${fileMode.status}`).toBe(true);
        expect(filter.status).toBe('ignored');
        expect(Buffer.compare(filter.output, input)).toBe(0);
        return;
      }
      expect(filter.format, rel).toBe(fileMode.format);
      expect(filter.status, `${rel}: ${filter.reason ?? ''}`).toBe(fileMode.status);
      expect(Buffer.from(filter.output).equals(Buffer.from(fileMode.output)), `${rel}: filter output differs from file mode`).toBe(true);
      // A zip whose bytes leave its flavour open takes the one its name gives: only names of
      // that flavour are misleading-but-harmless there.
      const tie = byContent === 'zip' && fileMode.status !== 'error' && (await zipContentFlavor(input)) === undefined;
      for (const wrong of MISLEADING) {
        if (wrong.endsWith(name.slice(name.lastIndexOf('.')))) continue;
        if (tie && flavorOfName(wrong) !== flavorOfName(name)) continue;
        const r = await normalizeBytes(input, wrong, options, HANDLERS);
        expect(r.format, `${rel} as ${wrong}`).toBe(fileMode.format);
        expect(Buffer.from(r.output).equals(Buffer.from(fileMode.output)), `${rel} as ${wrong}: output differs from file mode`).toBe(true);
      }
    });
  }
});

const CLI = new URL('../dist/cli.mjs', import.meta.url).pathname;
const filterCli = (input: Uint8Array, args: string[] = []) => spawnSync(process.execPath, [CLI, ...args, '-'], { input, maxBuffer: 1 << 28, env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });

describe.runIf(haveTool('jar') && haveTool('java'))('filter mode, end to end: `jar cfe app.jar Main Main.class LICENSE ABOUT` through `detnorm -`', () => {
  it('comes out a jar: META-INF/ and the manifest first, and JarInputStream finds the manifest', () => {
    const { dir, cleanup } = tempDir('detnorm-filter-jar-');
    try {
      writeFileSync(join(dir, 'Main.java'), 'public class Main { public static void main(String[] a) { System.out.println("hi"); } }\n');
      writeFileSync(join(dir, 'LICENSE'), 'MIT\n');
      writeFileSync(join(dir, 'ABOUT'), 'about\n');
      run('javac', ['-d', '.', 'Main.java'], { cwd: dir });
      run('jar', ['cfe', 'app.jar', 'Main', 'Main.class', 'LICENSE', 'ABOUT'], { cwd: dir });
      const r = filterCli(readFileSync(join(dir, 'app.jar')));
      expect(r.status, r.stderr.toString()).toBe(0);
      writeFileSync(join(dir, 'out.jar'), r.stdout);
      expect(run('jar', ['tf', 'out.jar'], { cwd: dir }).toString().trim().split('\n')).toEqual(['META-INF/', 'META-INF/MANIFEST.MF', 'ABOUT', 'LICENSE', 'Main.class']);
      writeFileSync(
        join(dir, 'Check.java'),
        'import java.util.jar.*; import java.io.*;\n' +
          'public class Check { public static void main(String[] a) throws Exception {\n' +
          '  try (JarInputStream j = new JarInputStream(new FileInputStream(a[0]))) {\n' +
          '    Manifest m = j.getManifest(); System.out.println(m == null ? "no manifest" : m.getMainAttributes().getValue("Main-Class")); } } }\n',
      );
      expect(run('java', ['Check.java', 'out.jar'], { cwd: dir }).toString().trim()).toBe('Main');
      expect(run('java', ['-jar', 'out.jar'], { cwd: dir }).toString()).toBe('hi\n');
      // The same bytes as file mode under the real name.
      const fileMode = spawnSync(process.execPath, [CLI, '-o', join(dir, 'file-mode.jar'), join(dir, 'app.jar')], { env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
      expect(fileMode.status, fileMode.stderr.toString()).toBe(0);
      expect(readFileSync(join(dir, 'file-mode.jar')).equals(r.stdout)).toBe(true);
    } finally {
      cleanup();
    }
  });
});

describe.runIf(haveTool('python3'))('filter mode, end to end: a wheel through `detnorm -`', () => {
  it('its RECORD follows the rewritten members: every row hashes right and `wheel unpack` accepts it', () => {
    const { dir, cleanup } = tempDir('detnorm-filter-whl-');
    try {
      const whl = join(dir, 'demo-1.0-py3-none-any.whl');
      // A wheel holding a pyc with a timestamp header (rewritten by the pyc handler) and a gzip
      // member with an MTIME (rewritten by the gzip handler).
      run('python3', ['-c', WHEEL_MAKER, whl]);
      const r = filterCli(readFileSync(whl));
      expect(r.status, r.stderr.toString()).toBe(0);
      expect(r.stderr.toString()).toMatch(/-: zip: normalized/);
      const out = join(dir, 'out', 'demo-1.0-py3-none-any.whl');
      mkdirSync(join(dir, 'out'));
      writeFileSync(out, r.stdout);
      expect(run('python3', ['-c', RECORD_CHECK, out]).toString().trim()).toBe('RECORD ok: 5 rows');
      const py = wheelPython();
      if (py) run(py, ['-m', 'wheel', 'unpack', '-d', join(dir, 'unpacked'), out]);
    } finally {
      cleanup();
    }
  });
});

/** A python3 with the `wheel` module (Debian's python3-wheel), if there is one. */
function wheelPython(): string | undefined {
  for (const py of ['python3', '/usr/bin/python3']) if (spawnSync(py, ['-m', 'wheel', 'version']).status === 0) return py;
  missingTool('python3 -m wheel');
  return undefined;
}

const WHEEL_MAKER = `
import base64, gzip, hashlib, importlib.util, marshal, struct, sys, zipfile
def h(b): return 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()
src = b'def hello():\\n    return "hello"\\n'
code = compile(src, '/home/builder/demo/__init__.py', 'exec')
pyc = importlib.util.MAGIC_NUMBER + struct.pack('<III', 0, 1600000000, len(src)) + marshal.dumps(code)
files = {'demo/__init__.py': src, 'demo/__pycache__/__init__.cpython-%d%d.pyc' % sys.version_info[:2]: pyc,
         'demo/data.txt.gz': gzip.compress(b'data\\n', mtime=1600000000),
         'demo-1.0.dist-info/WHEEL': b'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
         'demo-1.0.dist-info/METADATA': b'Metadata-Version: 2.1\\nName: demo\\nVersion: 1.0\\n'}
rows = [f'{n},{h(b)},{len(b)}' for n, b in files.items()] + ['demo-1.0.dist-info/RECORD,,']
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('demo-1.0.dist-info/RECORD', '\\n'.join(rows) + '\\n')
    for n, b in files.items(): z.writestr(n, b)
`;

const RECORD_CHECK = `
import base64, csv, hashlib, io, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
rec = [n for n in z.namelist() if n.endswith('.dist-info/RECORD')][0]
assert z.namelist()[-1] == rec, 'RECORD is not last'
rows = 0
for name, digest, size in csv.reader(io.TextIOWrapper(z.open(rec), 'utf-8')):
    if not digest: continue
    data = z.read(name)
    want = 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
    assert digest == want, f'{name}: RECORD says {digest}, the member hashes to {want}'
    assert int(size) == len(data), f'{name}: size'
    rows += 1
print(f'RECORD ok: {rows} rows')
`;
