// PE/COFF with LLVM's tools and the Windows-side conventions: lld-link /Brepro output (already
// canonical, or why not), --pe-timestamp T, Authenticode-signed images (left untouched),
// ARM64 images and objects, and Microsoft-format import libraries with first and second
// linker members (read by lld-link, checked member by member).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffPaths } from '../src/diff.js';
import { bytesEqual } from '../src/io.js';
import { haveTool, norm, tempDir } from './helpers.js';
import { checkMsLinkerMembers, msArchive, pefilePython, pefileView, readGnuArchive, wineRunner } from './pe-helpers.js';

const HAVE = haveTool('clang') && haveTool('lld-link') && haveTool('llvm-dlltool') && haveTool('llvm-ar') && haveTool('llvm-readobj') && haveTool('llvm-dwarfdump') && haveTool('llvm-objdump');
const PY = HAVE ? pefilePython() : undefined;
const HAVE_SIGN = HAVE && haveTool('osslsigncode') && haveTool('openssl') && haveTool('x86_64-w64-mingw32-gcc');
const HAVE_WINE = HAVE && haveTool('wine');

// A program that needs no C runtime: kernel32 only (its import library made by llvm-dlltool).
const PROG_C = `__declspec(dllimport) void __stdcall ExitProcess(unsigned);
__declspec(dllimport) void *__stdcall GetStdHandle(unsigned);
__declspec(dllimport) int __stdcall WriteFile(void *, const void *, unsigned, unsigned *, void *);
__declspec(dllimport) int lib_twice(int);
static const char digits[] = "0123456789";
void start(void) {
  char msg[] = "twice 21 = ..\\n";
  int v = lib_twice(21);
  msg[11] = digits[v / 10];
  msg[12] = digits[v % 10];
  unsigned n;
  WriteFile(GetStdHandle((unsigned)-11), msg, sizeof msg - 1, &n, 0);
  ExitProcess(0);
}
`;
const LIB_C = 'int __stdcall DllMain(void *h, unsigned r, void *p) { return 1; }\n__declspec(dllexport) int lib_twice(int x) { return 2 * x; }\n';
const KERNEL32_DEF = 'LIBRARY kernel32.dll\nEXPORTS\nExitProcess\nGetStdHandle\nWriteFile\n';
const LIB_DEF = 'LIBRARY lib.dll\nEXPORTS\nlib_twice\n';

const tmp = HAVE ? tempDir('detnorm-pe-tools-') : { dir: '', cleanup: () => {} };
const root = tmp.dir;
const sh = (cmd: string, cwd: string) => execFileSync('sh', ['-c', cmd], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

/** Build the program and the DLL for `machine` in `dir` with lld-link and the extra link flags. */
function build(dir: string, target: string, machine: string, dlltool: string, extra: string, clock: number, cflags = '-g -gdwarf'): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'prog.c'), PROG_C);
  writeFileSync(join(dir, 'lib.c'), LIB_C);
  writeFileSync(join(dir, 'kernel32.def'), KERNEL32_DEF);
  writeFileSync(join(dir, 'lib.def'), LIB_DEF);
  sh(
    [
      `llvm-dlltool -m ${dlltool} -d kernel32.def -l kernel32.lib`,
      `clang --target=${target} -O1 ${cflags} -c prog.c lib.c`,
      `lld-link /machine:${machine} /dll /noentry /nodefaultlib lib.o /out:lib.dll /implib:lib.lib /timestamp:${clock} ${extra}`,
      `lld-link /machine:${machine} /entry:start /subsystem:console /nodefaultlib prog.o kernel32.lib lib.lib /out:prog.exe /timestamp:${clock} ${extra}`,
    ].join(' && '),
    dir,
  );
}

beforeAll(() => {
  if (!HAVE) return;
  for (const [t, clock] of [['co-aa1', 1_000_000_000], ['checkout-bb22', 1_700_000_000]] as const) {
    build(join(root, t, 'x64'), 'x86_64-pc-windows-msvc', 'x64', 'i386:x86-64', '/debug:dwarf', clock);
    build(join(root, t, 'arm64'), 'aarch64-pc-windows-msvc', 'arm64', 'arm64', '/debug:dwarf', clock);
  }
  // (The /timestamp of a /Brepro build is ignored: /Brepro comes last and wins.)
  build(join(root, 'brepro'), 'x86_64-pc-windows-msvc', 'x64', 'i386:x86-64', '/Brepro', 0, '');
  build(join(root, 'clock-a'), 'x86_64-pc-windows-msvc', 'x64', 'i386:x86-64', '', 1_000_000_000, '');
  build(join(root, 'clock-b'), 'x86_64-pc-windows-msvc', 'x64', 'i386:x86-64', '', 1_700_000_000, '');
  build(join(root, 'brepro-pdb'), 'x86_64-pc-windows-msvc', 'x64', 'i386:x86-64', `/Brepro /debug /pdb:${join(root, 'brepro-pdb', 'prog.pdb')}`, 0, '');
}, 300_000);

afterAll(() => tmp.cleanup());

const mapOf = (t: string) => ({ mapPaths: [{ from: join(root, t), to: '/build/src' }] });

describe.skipIf(!HAVE)('PE: lld-link /Brepro output is already canonical', () => {
  it('a program and a DLL linked with /Brepro come back unchanged', async () => {
    for (const f of ['prog.exe', 'lib.dll']) {
      const r = await norm(readFileSync(join(root, 'brepro', f)), f);
      expect(r.status, `${f}: ${JSON.stringify(r.changes)}`).toBe('unchanged');
    }
  });
  it('with a PDB, only the GUID and the stamps differ: lld hashes the PDB into the GUID, detnorm the image', async () => {
    const bytes = readFileSync(join(root, 'brepro-pdb', 'prog.exe'));
    const r = await norm(bytes, 'prog.exe');
    expect(r.status).toBe('changed');
    expect(r.changes.map((c) => c.kind).sort()).toEqual(['build-id', 'timestamp', 'timestamp']);
    expect(r.notices.join('\n')).toMatch(/prog\.pdb: that PDB keeps its old GUID/);
    // Same size, and the bytes differ only in the COFF stamp, the debug stamps and the GUID.
    expect(r.output.length).toBe(bytes.length);
    let n = 0;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== r.output[i]) n++;
    expect(n).toBeLessThanOrEqual(4 + 2 * 4 + 16);
  });
  it('lld-link without /Brepro, normalized, has the stamps /Brepro would derive', async () => {
    // Without /Brepro there is no REPRO debug entry, so the two files differ in that entry; the
    // COFF stamp is the same hash of the content either way.
    const r = await norm(readFileSync(join(root, 'co-aa1', 'x64', 'lib.dll')), 'lib.dll', mapOf('co-aa1'));
    expect(r.status).toBe('changed');
    expect(r.changes.some((c) => /hash of the content/.test(c.what))).toBe(true);
  });
});

describe.skipIf(!HAVE)('PE: --pe-timestamp T', () => {
  it('every stamp becomes T; the output is stable', async () => {
    const T = 1_234_567_890;
    for (const f of ['prog.exe', 'lib.dll']) {
      const r = await norm(readFileSync(join(root, 'co-aa1', 'x64', f)), f, { ...mapOf('co-aa1'), timestamp: T, peTimestamp: 'T' });
      expect(r.status).toBe('changed');
      const b = Buffer.from(r.output);
      const pe = b.readUInt32LE(0x3c);
      expect(b.readUInt32LE(pe + 8), f).toBe(T);
      const again = await norm(r.output, f, { ...mapOf('co-aa1'), timestamp: T, peTimestamp: 'T' });
      expect(again.status).toBe('unchanged');
      if (PY) {
        const p = join(root, `T-${f}`);
        writeFileSync(p, r.output);
        const [v] = pefileView(PY, [p]);
        expect(v!.debug.every((d) => d.stamp === T)).toBe(true);
      }
    }
    const dll = await norm(readFileSync(join(root, 'co-aa1', 'x64', 'lib.dll')), 'lib.dll', { timestamp: T, peTimestamp: 'T' });
    expect(dll.changes.map((c) => c.what).join('\n')).toContain(`export directory TimeDateStamp -> ${T}`);
  });
});

describe.skipIf(!HAVE)('PE: x86-64 and ARM64 lld-link builds from two checkouts converge', () => {
  for (const arch of ['x64', 'arm64']) {
    it(arch, async () => {
      for (const f of ['prog.exe', 'lib.dll', 'prog.o', 'lib.o', 'lib.lib']) {
        const a = await norm(readFileSync(join(root, 'co-aa1', arch, f)), f, mapOf('co-aa1'));
        const b = await norm(readFileSync(join(root, 'checkout-bb22', arch, f)), f, mapOf('checkout-bb22'));
        expect(a.status, `${f} ${a.reason ?? ''}`).not.toBe('error');
        expect(bytesEqual(a.output, b.output), `${arch}/${f}`).toBe(true);
        expect(Buffer.from(a.output).includes(Buffer.from(root)), `${arch}/${f} holds the build path`).toBe(false);
        const p = join(root, `${arch}-${f}`);
        writeFileSync(p, a.output);
        if (f.endsWith('.lib')) continue;
        const v = spawnSync('llvm-dwarfdump', ['--verify', p]);
        expect(v.stdout.toString(), `${arch}/${f}`).toMatch(/No errors\./);
        const r = spawnSync('llvm-readobj', ['--file-headers', '--sections', '--coff-debug-directory', p]);
        expect(r.status, r.stderr.toString()).toBe(0);
        expect(r.stderr.toString()).toBe('');
        if (f.endsWith('.o')) continue;
        expect(spawnSync('llvm-objdump', ['-p', p]).status).toBe(0);
        if (PY) {
          const [before, after] = pefileView(PY, [join(root, 'co-aa1', arch, f), p]);
          // (pefile's "Byte 0x00 makes up N% of the file" heuristic fires on these tiny images.)
          const real = (w: string[]) => w.filter((x) => !/^Byte 0x[0-9a-f]+ makes up/.test(x));
          expect(real(after!.warnings)).toEqual(real(before!.warnings));
        }
      }
    });
  }
});

describe.skipIf(!HAVE_SIGN)('PE: an Authenticode-signed image is left untouched and reported', () => {
  it('osslsigncode-signed program', async () => {
    const dir = join(root, 'sign');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("signed"); return 0; }\n');
    sh('x86_64-w64-mingw32-gcc -O2 -o hello.exe hello.c', dir);
    sh('openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 -subj /CN=detnorm-test 2>/dev/null', dir);
    sh('osslsigncode sign -certs cert.pem -key key.pem -in hello.exe -out signed.exe >/dev/null', dir);
    const bytes = readFileSync(join(dir, 'signed.exe'));
    const r = await norm(bytes, 'signed.exe');
    expect(r.status).toBe('untouched');
    expect(r.reason).toMatch(/Authenticode-signed/);
    expect(bytesEqual(r.output, bytes)).toBe(true);
    // The unsigned program is normalized.
    expect((await norm(readFileSync(join(dir, 'hello.exe')), 'hello.exe')).status).toBe('changed');
  });
});

describe.skipIf(!HAVE)('PE: Microsoft import libraries (first and second linker members) through the ar handler', () => {
  let lib: Buffer;
  let dir: string;
  beforeAll(() => {
    dir = join(root, 'mslib');
    mkdirSync(dir, { recursive: true });
    // llvm-dlltool writes the GNU format: its members (import descriptor objects and short
    // import members) and symbols make a Microsoft-format archive, with lib.exe's conventions:
    // member times, mode 100666, and time stamps in the import members.
    const members = readGnuArchive(readFileSync(join(root, 'co-aa1', 'x64', 'lib.lib'))).map((m, i) => {
      const data = Buffer.from(m.data);
      if (data.readUInt16LE(0) === 0 && data.readUInt16LE(2) === 0xffff) data.writeUInt32LE(1_700_000_000 + i, 8);
      return { ...m, data, name: m.name.length > 15 ? m.name : 'lib-with-a-long-member-name.dll' };
    });
    lib = msArchive(members, 1_700_000_000);
    writeFileSync(join(dir, 'ms.lib'), lib);
    expect(checkMsLinkerMembers(lib).symbols).toBeGreaterThan(3);
  });
  for (const sort of [false, true]) {
    it(sort ? 'with --sort-ar-members' : 'member order kept', async () => {
      const r = await norm(lib, 'ms.lib', { sortArMembers: sort });
      expect(r.status, r.reason).toBe('changed');
      expect(r.format).toBe('ar');
      const what = r.changes.map((c) => c.what).join('\n');
      expect(what).toContain('import member TimeDateStamp');
      expect(what).toContain('member mtime');
      const out = Buffer.from(r.output);
      checkMsLinkerMembers(out);
      expect((await norm(out, 'ms.lib', { sortArMembers: sort })).status).toBe('unchanged');
      const sub = join(dir, sort ? 'sorted' : 'kept');
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, 'lib.lib'), out);
      expect(execFileSync('llvm-ar', ['t', join(sub, 'lib.lib')]).toString()).toContain('lib-with-a-long-member-name.dll');
      for (const f of ['prog.o', 'kernel32.lib', 'lib.dll']) copyFileSync(join(root, 'co-aa1', 'x64', f), join(sub, f));
      sh('lld-link /machine:x64 /entry:start /subsystem:console /nodefaultlib prog.o kernel32.lib lib.lib /out:prog.exe', sub);
      if (HAVE_WINE) expect(wineRunner(root)('prog.exe', sub).stdout).toBe('twice 21 = 42\n');
    }, 300_000);
  }
});

describe.skipIf(!HAVE)('detnorm diff explains PE differences', () => {
  it('two links at other times: only the stamps differ', async () => {
    const r = await diffPaths(join(root, 'clock-a', 'prog.exe'), join(root, 'clock-b', 'prog.exe'));
    expect(r.identical).toBe(true);
    expect(r.pairs[0]!.causes.join('\n')).toMatch(/PE: only link time stamps .* differ/);
  });
  it('two checkouts: stamps, GUID-free DWARF paths, and the fix', async () => {
    const a = join(root, 'co-aa1', 'x64', 'prog.exe');
    const b = join(root, 'checkout-bb22', 'x64', 'prog.exe');
    const plain = await diffPaths(a, b);
    expect(plain.identical).toBe(false);
    const causes = plain.pairs[0]!.causes.join('\n');
    expect(causes).toMatch(/PE: link time stamps differ/);
    expect(causes).toMatch(/PE: DWARF sections differ \(.*\.debug_str.*\): build paths/);
    expect(causes).not.toMatch(/loaded sections differ/);
    const mapped = await diffPaths(a, b, { mapPaths: [`${join(root, 'co-aa1')}=/build/src`, `${join(root, 'checkout-bb22')}=/build/src`] });
    expect(mapped.identical).toBe(true);
  });
  it('objects: the compile stamp', async () => {
    const r = await diffPaths(join(root, 'clock-a', 'prog.o'), join(root, 'co-aa1', 'x64', 'prog.o'));
    expect(r.pairs[0]!.causes.join('\n')).toMatch(/COFF: .*DWARF sections differ|COFF: the object TimeDateStamps differ/);
  });
});
