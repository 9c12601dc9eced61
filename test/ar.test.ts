// ar (GNU/SysV, BSD, .deb): one describe per rule of formats/ar.ts, with GNU ar, llvm-ar,
// nm, gcc/ld and dpkg-deb run for real as oracles.
import { HANDLERS } from '../formats/index.js';
import { describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PEER, haveTool, norm, run, tempDir } from './helpers.js';
import { BufferSource } from '../src/io.js';
import { Unsupported, parseArchive } from '../formats/ar/parse.js';
import { arTool, gzipFile, gzipN, tempFile, writeMembers, type ArMember } from './gzip-ar-helpers.js';

const HAVE_AR = haveTool('ar');
const HAVE_NM = haveTool('nm');
const HAVE_GCC = haveTool('gcc');
const HAVE_GZIP = haveTool('gzip');
const HAVE_LLVM_AR = haveTool('llvm-ar');
const HAVE_DPKG = haveTool('dpkg-deb');
const HAVE_SETPRIV = haveTool('setpriv');

const { dir } = tempDir('detnorm-ar-');

/** Compile C sources into objects (name -> bytes). */
function objects(sources: Record<string, string>): Record<string, Buffer> {
  const sub = join(dir, `o${Math.random().toString(36).slice(2)}`);
  mkdirSync(sub);
  const out: Record<string, Buffer> = {};
  for (const [name, src] of Object.entries(sources)) {
    writeFileSync(join(sub, `${name}.c`), src);
    run('gcc', ['-c', '-O1', `${name}.c`, '-o', `${name}.o`], { cwd: sub });
    out[`${name}.o`] = readFileSync(join(sub, `${name}.o`));
  }
  return out;
}

const OBJS = HAVE_GCC
  ? objects({
      one: 'int one(void){return 1;}\nint shared_one = 1;\n',
      two_has_a_long_object_name: 'int two(void){return 2;}\nint two_b(void){return 22;}\n',
      three: 'int three(void){return 3;}\n',
    })
  : {};

/** Members with varied times, owners and modes (what differs between two builds). */
function varied(seed: number): ArMember[] {
  return [
    { name: 'one.o', data: OBJS['one.o']!, mtime: 1500000000 + seed, uid: 1000 + seed, gid: 100, mode: 0o664 },
    { name: 'two_has_a_long_object_name.o', data: OBJS['two_has_a_long_object_name.o']!, mtime: 1600000000 - seed, uid: 0, gid: 5000 + seed, mode: 0o755 },
    { name: 'notes-with-a-long-name.txt', data: Buffer.from('odd-sized text\n!'), mtime: 1234567890, uid: 42, gid: 42, mode: 0o600 },
    { name: 'three.o', data: OBJS['three.o']!, mtime: seed, uid: 65534, gid: 65534, mode: 0o644 },
  ];
}

function arList(bytes: Uint8Array, cmd: string[] = ['t']): string {
  const p = tempFile(dir, `l${Math.random().toString(36).slice(2)}.a`, bytes);
  return run('ar', [...cmd, p]).toString();
}

describe.runIf(HAVE_AR && HAVE_GCC)('oracle: `ar rcU` members -> byte-identical to `ar rcD` of the same members', () => {
  it('varied mtime/uid/gid/mode, long names, symbol table', async () => {
    for (const seed of [1, 7]) {
      const u = arTool(dir, varied(seed), 'rcU');
      const d = arTool(dir, varied(seed), 'rcD');
      expect(u.equals(d)).toBe(false);
      const r = await norm(u, 'libx.a');
      expect(r.status).toBe('changed');
      expect(Buffer.from(r.output).equals(d)).toBe(true);
    }
  });
  it('the report names each kind of field, aggregated', async () => {
    const r = await norm(arTool(dir, varied(3), 'rcU'), 'libx.a');
    const kinds = r.changes.map((c) => `${c.kind}:${c.what}${c.count ? `x${c.count}` : ''}`);
    expect(kinds).toEqual([
      expect.stringMatching(/^timestamp:symbol table header \(mtime \d+, uid 0, gid 0, mode 0\) -> 0 0 0 0$/),
      'timestamp:member mtime -> 0x4',
      'owner:member uid/gid -> 0x4',
      'mode:member mode -> 644x4',
    ]);
  });
  it.runIf(HAVE_SETPRIV)('ar run as another user (setpriv) on files that user owns', async () => {
    const members = varied(5).map((m) => ({ ...m, uid: 4242, gid: 4343 }));
    const sub = writeMembers(dir, members);
    chmodSync(sub, 0o777);
    chownSync(sub, 4242, 4343);
    run('setpriv', ['--reuid=4242', '--regid=4343', '--clear-groups', 'ar', 'rcU', 'out.a', ...members.map((m) => m.name)], { cwd: sub });
    const u = readFileSync(join(sub, 'out.a'));
    expect(u.toString('latin1')).toContain('4242  4343');
    const r = await norm(u, 'out.a');
    expect(Buffer.from(r.output).equals(arTool(dir, members, 'rcD'))).toBe(true);
  });
  it('with T: member mtimes become T; the symbol table header stays 0 as ar D writes it', async () => {
    const r = await norm(arTool(dir, varied(2), 'rcU'), 'libx.a', { timestamp: 1423159771 });
    const out = Buffer.from(r.output).toString('latin1');
    expect(out.slice(8, 68)).toMatch(/^\/ +0 +0 +0 +0 +\d+ +`\n$/);
    expect(out.match(/1423159771 {2}0 {5}0 {5}644 {5}/g)?.length).toBe(4);
  });
  it('with T and --clamp: only mtimes later than T become T', async () => {
    const r = await norm(arTool(dir, varied(2), 'rcU'), 'libx.a', { timestamp: 1550000000, clamp: true });
    const parsed = await parseArchive(new BufferSource(r.output), 1 << 20);
    if (parsed instanceof Unsupported) throw new Error(parsed.reason);
    const mtimes = parsed.entries.filter((e) => e.kind === 'member').map((e) => e.header.mtime);
    expect(mtimes).toEqual([1500000002, 1550000000, 1234567890, 2]);
  });
});

describe.runIf(HAVE_AR && HAVE_GCC)('reference tools accept the output; content is preserved', () => {
  it('ar t lists the same names, ar p gives the same bytes, nm -s resolves the index', async () => {
    const members = varied(4);
    const u = arTool(dir, members, 'rcU');
    const r = await norm(u, 'libx.a');
    expect(arList(r.output)).toBe(arList(u));
    expect(arList(r.output)).toBe(members.map((m) => `${m.name}\n`).join(''));
    const out = tempFile(dir, 'p.a', r.output);
    for (const m of members) expect(run('ar', ['p', out, m.name])).toEqual(Buffer.from(m.data));
    if (HAVE_NM) {
      const index = run('nm', ['-s', tempFile(dir, 'nm.a', r.output)]).toString();
      expect(index).toContain('one in one.o');
      expect(index).toContain('two_b in two_has_a_long_object_name.o');
      expect(index).toContain('three in three.o');
    }
  });
});

describe.runIf(HAVE_AR && HAVE_GCC && HAVE_GZIP)('every member goes through the dispatcher; symbol table offsets follow size changes', () => {
  // A gzip member (with name and mtime) shrinks when normalized, moving every later member.
  const members = (seed: number, gz: Buffer): ArMember[] => [
    { name: 'one.o', data: OBJS['one.o']!, mtime: seed, uid: 7 },
    { name: 'docs.txt.gz', data: gz, mtime: seed, uid: 7 },
    { name: 'two_has_a_long_object_name.o', data: OBJS['two_has_a_long_object_name.o']!, mtime: seed },
    { name: 'three.o', data: OBJS['three.o']!, mtime: seed },
  ];
  const payload = Buffer.from('documentation '.repeat(300));
  it('output equals `ar rcD` of the normalized members; nm -s and the linker use the index', async () => {
    const gz = gzipFile(dir, payload, { name: 'a-long-original-file-name.txt', mtime: 1700000000, level: 9 });
    const u = arTool(dir, members(1600000000, gz), 'rcU');
    const r = await norm(u, 'libdoc.a');
    const expected = arTool(dir, members(0, gzipN(payload, 9)), 'rcD');
    expect(Buffer.from(r.output).equals(expected)).toBe(true);
    expect(r.changes).toContainEqual({ kind: 'layout', what: 'symbol table offsets rewritten' });
    expect(r.changes.some((c) => c.member === 'docs.txt.gz' && c.kind === 'metadata')).toBe(true);
    const lib = tempFile(dir, 'libdoc.a', r.output);
    expect(run('nm', ['-s', lib]).toString()).toContain('three in three.o');
    writeFileSync(join(dir, 'main.c'), 'int three(void);int two_b(void);int main(void){return three()+two_b()==25?0:1;}\n');
    run('gcc', ['-o', join(dir, 'main'), join(dir, 'main.c'), lib]);
    run(join(dir, 'main'), []);
  });
});

describe.runIf(HAVE_AR && HAVE_GCC)('options.sortArMembers: bytewise name order, symbol table follows', () => {
  it('equals `ar rcD` of the members given in sorted order', async () => {
    const members = varied(9);
    const sorted = [...members].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    expect(sorted.map((m) => m.name)).not.toEqual(members.map((m) => m.name));
    const r = await norm(arTool(dir, members, 'rcU'), 'libx.a', { sortArMembers: true });
    expect(Buffer.from(r.output).equals(arTool(dir, sorted, 'rcD'))).toBe(true);
    expect(r.changes).toContainEqual({ kind: 'order', what: 'members sorted by name', count: 4 });
  });
  it('without the option the order is kept', async () => {
    const r = await norm(arTool(dir, varied(9), 'rcU'), 'libx.a');
    expect(arList(r.output)).toBe(varied(9).map((m) => `${m.name}\n`).join(''));
  });
});

describe.runIf(HAVE_AR && HAVE_GCC)('GNU ar quirks: duplicate names (ar q) and path names (ar P)', () => {
  it('ar qU with a duplicate member -> ar qD', async () => {
    const ms = varied(3);
    const dup = [ms[0]!, ms[2]!, ms[0]!, ms[1]!];
    const r = await norm(arTool(dir, dup, 'qU'), 'libq.a');
    expect(Buffer.from(r.output).equals(arTool(dir, dup, 'qD'))).toBe(true);
  });
  it('ar rcUP stores "sub/x.txt/" as a short name; we keep it short as ar rcDP does', async () => {
    const sub = writeMembers(dir, [{ name: 'x.txt', data: Buffer.from('hello\n'), uid: 9, mtime: 99 }]);
    mkdirSync(join(sub, 'sub'));
    writeFileSync(join(sub, 'sub/x.txt'), 'hello\n');
    writeFileSync(join(sub, 'one.o'), OBJS['one.o']!);
    run('ar', ['rcUP', 'u.a', 'sub/x.txt', 'one.o'], { cwd: sub });
    run('ar', ['rcDP', 'd.a', 'sub/x.txt', 'one.o'], { cwd: sub });
    const r = await norm(readFileSync(join(sub, 'u.a')), 'u.a');
    expect(Buffer.from(r.output).equals(readFileSync(join(sub, 'd.a')))).toBe(true);
  });
});

describe.runIf(HAVE_LLVM_AR && HAVE_GCC)('Darwin variant (llvm-ar --format=darwin: members padded to 8 bytes inside their size)', () => {
  it('llvm-ar rcU -> byte-identical to llvm-ar rcD', async () => {
    const mk = (flags: string) => arTool(dir, varied(6), flags, { tool: 'llvm-ar', args: ['--format=darwin'] });
    const r = await norm(mk('rcU'), 'libd.a');
    expect(Buffer.from(r.output).equals(mk('rcD'))).toBe(true);
  });
});

describe.runIf(HAVE_LLVM_AR && HAVE_GCC)('BSD variant (#1/N names, __.SYMDEF), made by llvm-ar --format=bsd', () => {
  const bsd = (members: ArMember[], flags: string) => arTool(dir, members, flags, { tool: 'llvm-ar', args: ['--format=bsd'] });
  it('llvm-ar rcU -> byte-identical to llvm-ar rcD', async () => {
    const u = bsd(varied(2), 'rcU');
    const r = await norm(u, 'libb.a');
    expect(Buffer.from(r.output.subarray(8, 24)).toString('latin1')).toBe('#1/12           ');
    expect(Buffer.from(r.output).equals(bsd(varied(2), 'rcD'))).toBe(true);
  });
  it('sorted: equals llvm-ar rcD of the sorted members (entries and strings reordered)', async () => {
    const members = varied(2);
    const sorted = [...members].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    const r = await norm(bsd(members, 'rcU'), 'libb.a', { sortArMembers: true });
    expect(Buffer.from(r.output).equals(bsd(sorted, 'rcD'))).toBe(true);
    // GNU nm does not read a BSD index; llvm-nm does.
    if (haveTool('llvm-nm')) expect(run('llvm-nm', ['--print-armap', tempFile(dir, 'b.a', r.output)]).toString()).toMatch(/^Archive map\none in one.o\nshared_one in one.o\nthree in three.o\ntwo in two_has_a_long_object_name.o\n/);
  });
});

describe.runIf(HAVE_LLVM_AR && HAVE_GCC)('GNU /SYM64/ symbol table (llvm-ar with SYM64_THRESHOLD=0)', () => {
  it('rcU -> rcD, and offsets move with a member', async () => {
    const env = { SYM64_THRESHOLD: '0' };
    const mk = (members: ArMember[], flags: string) => {
      const sub = writeMembers(dir, members);
      run('llvm-ar', [flags, 'out.a', ...members.map((m) => m.name)], { cwd: sub, env });
      return readFileSync(join(sub, 'out.a'));
    };
    const u = mk(varied(1), 'rcU');
    expect(u.subarray(8, 15).toString()).toBe('/SYM64/');
    const r = await norm(u, 'lib64.a', { sortArMembers: true });
    const sorted = [...varied(1)].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    expect(Buffer.from(r.output).equals(mk(sorted, 'rcD'))).toBe(true);
    if (HAVE_NM) expect(run('nm', ['-s', tempFile(dir, 's64.a', r.output)]).toString()).toContain('two_b in two_has_a_long_object_name.o');
  });
});

// Debian packages go to the deb handler (test/deb.test.ts); with it switched off (--formats)
// the ar handler still treats one as an ar archive and keeps dpkg's member order.
describe.runIf(HAVE_DPKG && HAVE_AR)('.deb with the deb handler off: an ar container, members normalized, order kept', () => {
  const noDeb = HANDLERS.map((h) => h.name).filter((n) => n !== 'deb');
  function buildDeb(epoch: number, compressor: string): Buffer {
    const root = join(dir, `deb${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(root, 'pkg/DEBIAN'), { recursive: true });
    mkdirSync(join(root, 'pkg/usr/share/doc/demo'), { recursive: true });
    writeFileSync(join(root, 'pkg/DEBIAN/control'), 'Package: demo\nVersion: 1.0\nArchitecture: all\nMaintainer: A <a@example.org>\nDescription: demo\n');
    writeFileSync(join(root, 'pkg/usr/share/doc/demo/README'), 'hello\n');
    run('dpkg-deb', ['--root-owner-group', `-Z${compressor}`, '--build', join(root, 'pkg'), join(root, 'demo.deb')], { env: { SOURCE_DATE_EPOCH: String(epoch) } });
    return readFileSync(join(root, 'demo.deb'));
  }
  for (const z of ['xz', 'gzip']) {
    it(`dpkg-deb -Z${z}: canonical headers, accepted by dpkg-deb -c/-I, contents kept`, async () => {
      const deb = buildDeb(1700000000, z);
      const r = await norm(deb, 'demo_1.0_all.deb', { sortArMembers: true, formats: noDeb });
      expect(r.format).toBe('ar');
      expect(r.status).toBe('changed');
      expect(r.notices).toContain('.deb: member order kept (dpkg requires debian-binary, control, data)');
      const out = Buffer.from(r.output);
      expect(out.toString('latin1').match(/ {2}0 {11}0 {5}0 {5}644 {5}/g)?.length).toBe(3);
      const p = tempFile(dir, 'out.deb', out);
      const q = tempFile(dir, 'in.deb', deb);
      // Nested members (control.tar.*, data.tar.*) may be normalized by the tar handler, so
      // compare what dpkg reads: the control fields and the file names and types.
      expect(run('dpkg-deb', ['-f', p]).toString()).toBe(run('dpkg-deb', ['-f', q]).toString());
      const files = (f: string) => run('dpkg-deb', ['-c', f]).toString().split('\n').map((l) => `${l.slice(0, 10)} ${l.split(' ').pop()}`);
      expect(files(p)).toEqual(files(q));
      expect(run('dpkg-deb', ['-I', p]).toString()).toContain('Package: demo');
      expect(arList(out)).toBe(arList(deb));
      expect(arList(out)).toMatch(/^debian-binary\ncontrol\.tar\.\w+\ndata\.tar\.\w+\n$/);
      expect(run('ar', ['p', p, 'debian-binary']).toString()).toBe('2.0\n');
    });
  }
});

describe('left untouched on purpose, with a reason', () => {
  it.runIf(HAVE_AR)('thin archive (ar rcT)', async () => {
    const t = arTool(dir, [{ name: 'x.txt', data: Buffer.from('x') }], 'rcT');
    const r = await norm(t, 'libthin.a');
    expect(r.status).toBe('untouched');
    expect(r.reason).toMatch(/thin ar archive/);
    expect(Buffer.from(r.output).equals(t)).toBe(true);
  });
  it("Debian's libm.a, a GNU ld script", async () => {
    const real = '/usr/lib/x86_64-linux-gnu/libm.a';
    const bytes = existsSync(real) ? readFileSync(real) : Buffer.from('/* GNU ld script\n*/\nOUTPUT_FORMAT(elf64-x86-64)\nGROUP ( /usr/lib/libm-2.36.a )\n');
    expect(bytes.subarray(0, 16).toString()).toBe('/* GNU ld script');
    const r = await norm(bytes, 'libm.a');
    expect(r.status).toBe('untouched');
    expect(r.reason).toMatch(/GNU ld script/);
  });
  it('Microsoft COFF import library (a second / linker member): handled (test/pe-tools.test.ts), a truncated one rejected', async () => {
    const hdr = (name: string, size: number) => `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'0'.padEnd(8)}${String(size).padEnd(10)}\`\n`;
    const empty = Buffer.from(`!<arch>\n${hdr('/', 4)}\0\0\0\0${hdr('/', 8)}\0\0\0\0\0\0\0\0`, 'latin1');
    expect((await norm(empty, 'kernel32.lib.a')).status).toBe('unchanged');
    const truncated = Buffer.from(`!<arch>\n${hdr('/', 4)}\0\0\0\0${hdr('/', 4)}\0\0\0\0`, 'latin1');
    const r = await norm(truncated, 'kernel32.lib.a');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/second linker member declares/);
  });
});

describe.runIf(existsSync('/usr/lib/x86_64-linux-gnu/libc.a'))('a real Debian archive made with ar D is already canonical', () => {
  it('libc.a (thousands of members, GNU symbol table, long names) comes back unchanged', async () => {
    const r = await norm(readFileSync('/usr/lib/x86_64-linux-gnu/libc.a'), 'libc.a');
    expect(r.status).toBe('unchanged');
  });
});

describe('bad input: FormatError with a clear reason, input left as it is', () => {
  const hdr = (name: string, size: number | string, mtime = '0') =>
    `${name.padEnd(16)}${mtime.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'644'.padEnd(8)}${String(size).padEnd(10)}\`\n`;
  const A = (s: string) => Buffer.from(s, 'latin1');
  const symtab = (count: number, offsets: number[], names: string) => {
    const b = Buffer.alloc(4 + offsets.length * 4);
    b.writeUInt32BE(count, 0);
    offsets.forEach((o, i) => b.writeUInt32BE(o, 4 + i * 4));
    return Buffer.concat([b, A(names)]);
  };
  const withSymtab = (data: Buffer) => Buffer.concat([A(`!<arch>\n${hdr('/', data.length)}`), data, A(data.length % 2 ? '\n' : ''), A(`${hdr('a.o/', 2)}hi`)]);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['wrong magic (claimed by the .a extension)', A('!<arcx>\nwhatever'), /not an ar archive: bad magic at offset 0/],
    ['truncated magic', A('!<ar'), /truncated ar magic/],
    ['truncated member header', A(`!<arch>\n${hdr('a.o/', 2).slice(0, 30)}`), /truncated ar member header at offset 8: 30 of 60 bytes/],
    ['member larger than the file', A(`!<arch>\n${hdr('a.o/', 99999999)}abc`), /member "a.o\/" at offset 8 declares 99999999 bytes, but only 3 remain/],
    ['bad size field', A(`!<arch>\n${hdr('a.o/', '12x')}`), /size field "12x"/],
    ['bad terminator', A(`!<arch>\n${hdr('a.o/', 2).slice(0, 58)}XX`), /no "`\\n" terminator/],
    ['long name without a table', A(`!<arch>\n${hdr('/0', 2)}hi`), /refers to long name \/0 but there is no long-name table/],
    ['long name beyond the table', A(`!<arch>\n${hdr('//', 4)}ab/\n${hdr('/40', 2)}hi`), /long name \/40 beyond the 4-byte name table/],
    ['BSD name longer than the member', A(`!<arch>\n${hdr('#1/50', 4)}abcd`), /BSD name length 50 exceeds member size 4/],
    ['symbol table offset to no member', withSymtab(symtab(1, [12345], 'f\0')), /symbol table entry points to offset 12345, which is not a member header/],
    ['symbol table with a huge count', withSymtab(symtab(0x40000000, [0], 'f\0')), /declares 1073741824 symbols in 10 bytes/],
    ['symbol table with fewer names than symbols', withSymtab(symtab(2, [76, 76], 'f\0\0\0')), /has 2 symbols but only 1 names|not a member header/],
    ['empty member name', A(`!<arch>\n${hdr('', 2)}hi`), /empty name/],
  ];
  it('zero-length: not an artifact whatever its name (an empty placeholder), left as it is', async () => {
    const r = await norm(new Uint8Array(0), 'bad.a');
    expect(r.status).toBe('ignored');
    expect(r.reason).toBe('empty file');
    expect(r.output.length).toBe(0);
  });
  for (const [what, bytes, reason] of cases) {
    it(what, async () => {
      const r = await norm(bytes, 'bad.a');
      expect(r.status).toBe('error');
      expect(r.reason).toMatch(reason);
      expect(Buffer.from(r.output).equals(Buffer.from(bytes))).toBe(true);
    });
  }
  it('strip-nondeterminism _failures/ar/857975.a (size -60) is rejected cleanly', async () => {
    const r = await norm(readFileSync(`${PEER}strip-nondeterminism/_failures/ar/857975.a`), '857975.a');
    expect(r.status).toBe('error');
    expect(r.reason).toMatch(/size field "-60" is not a decimal number/);
  });
});

describe('peer fixtures as inputs where their canonical form differs from ours', () => {
  const peer = (p: string) => readFileSync(`${PEER}${p}`);
  // strip-nondeterminism sets the symbol table's mtime to T and keeps an executable member's
  // 755; GNU `ar D` (our rule) writes 0 for the symbol table and 644 for every member.
  for (const n of ['symbol_table', 'longnames_symtab', 'one']) {
    it(`strip-nondeterminism ar/${n}.a: valid for ar/nm, idempotent, content kept; differs only where ar D does`, async () => {
      const input = peer(`strip-nondeterminism/ar/${n}.a.in`);
      const theirs = peer(`strip-nondeterminism/ar/${n}.a.out`);
      const r = await norm(input, `${n}.a`, { timestamp: 1423159771 });
      expect(r.status).toBe('changed');
      expect(r.output.length).toBe(theirs.length);
      const ours = Buffer.from(r.output).toString('latin1');
      const diff = [...ours].flatMap((c, i) => (c !== theirs.toString('latin1')[i] ? [i] : []));
      if (n === 'one') {
        // The only difference: their "755" mode for an executable member vs our "644".
        expect(ours.slice(diff[0]!, diff[0]! + 3)).toBe('644');
        expect(theirs.toString('latin1').slice(diff[0]!, diff[0]! + 3)).toBe('755');
        expect(diff).toEqual([diff[0]!, diff[0]! + 1, diff[0]! + 2]);
      } else {
        // The only differences: the symbol table header's mtime (0 vs T).
        expect(diff.every((i) => i >= 24 && i < 36)).toBe(true);
        expect(ours.slice(24, 36)).toBe('0'.padEnd(12));
      }
      expect((await norm(r.output, `${n}.a`, { timestamp: 1423159771 })).status).toBe('unchanged');
      if (HAVE_AR) {
        expect(arList(r.output)).toBe(arList(input));
        for (const name of arList(input).trim().split('\n')) {
          const a = run('ar', ['p', tempFile(dir, 'o.a', r.output), name]);
          const b = run('ar', ['p', tempFile(dir, 'i.a', input), name]);
          expect(a.equals(b)).toBe(true);
        }
      }
    });
  }
  // add-determinism clamps to SOURCE_DATE_EPOCH and writes T into the symbol table header and
  // keeps mode 100644; we write ar D's "0 0 0 0" symbol table header and mode 644.
  const ad: Array<[string, string, number]> = [
    ['add-determinism/testrelro.a', 'add-determinism/testrelro.fixed.a', 111],
    ['add-determinism/libHSbase-compat-batteries-0.12.3-EvvecFThiaEAGWq5U5Tpi9.a', 'add-determinism/libHSbase-compat-batteries-0.12.3-EvvecFThiaEAGWq5U5Tpi9.a.fixed', 1717842014],
  ];
  for (const [i, fixed, sde] of ad) {
    it(`${i}: same ar t listing and nm -s index as their fix, owners 0, idempotent, content kept`, async () => {
      const input = peer(i);
      const r = await norm(input, 'lib.a', { timestamp: sde, clamp: true });
      expect(r.status).toBe('changed');
      expect(r.output.length).toBe(peer(fixed).length);
      expect((await norm(r.output, 'lib.a', { timestamp: sde, clamp: true })).status).toBe('unchanged');
      if (HAVE_AR && HAVE_NM) {
        const o = tempFile(dir, 'ad-o.a', r.output);
        const f = tempFile(dir, 'ad-f.a', peer(fixed));
        expect(run('ar', ['t', o]).toString()).toBe(run('ar', ['t', f]).toString());
        expect(run('nm', ['-s', o]).toString()).toBe(run('nm', ['-s', f]).toString());
        expect(run('ar', ['tv', o]).toString().split('\n').filter(Boolean).every((l) => l.startsWith('rw-r--r-- 0/0'))).toBe(true);
        // `ar p` with no names prints every member: the same bytes as the input's.
        expect(run('ar', ['p', o]).equals(run('ar', ['p', tempFile(dir, 'ad-i.a', input)]))).toBe(true);
      }
    });
  }
});

describe('members() lists every member with its stored fields (for detnorm diff)', () => {
  it('names, data and header fields; special members left out', async () => {
    const { arHandler } = await import('../formats/ar.js');
    const { defaultOptions } = await import('../src/options.js');
    const { MemorySpill } = await import('../src/engine.js');
    const hdr = (name: string, size: number, mtime: string, uid: string, mode: string) =>
      `${name.padEnd(16)}${mtime.padEnd(12)}${uid.padEnd(6)}${uid.padEnd(6)}${mode.padEnd(8)}${String(size).padEnd(10)}\`\n`;
    const bytes = Buffer.from(`!<arch>\n${hdr('//', 20, '', '', '')}a-long-member-name/\n${hdr('/0', 3, '1600000000', '1000', '100755')}abc\n${hdr('b.o/', 2, '5', '7', '644')}hi`, 'latin1');
    const ctx = { options: defaultOptions(), path: 'x.a', depth: 0, spill: () => new MemorySpill(), notice: () => {}, normalizeMember: async () => ({ changed: false as const }) };
    const out = [];
    for await (const m of arHandler.members!(new BufferSource(bytes), ctx)) out.push({ ...m, data: Buffer.from(await m.data!.read(0, m.data!.size)).toString() });
    expect(out).toEqual([
      { name: 'a-long-member-name', type: 'file', data: 'abc', meta: { mtime: 1600000000, uid: 1000, gid: 1000, mode: '100755' } },
      { name: 'b.o', type: 'file', data: 'hi', meta: { mtime: 5, uid: 7, gid: 7, mode: '644' } },
    ]);
  });
});

describe('nested changes are aggregated across members (one record per kind, with counts)', () => {
  it('ten gzip members with names and distinct mtimes give a few records, not thirty', async () => {
    const { mergeNested } = await import('../formats/tally.js');
    const pako = (await import('pako')).default;
    const hdr = (name: string, size: number) => `${name.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'644'.padEnd(8)}${String(size).padEnd(10)}\`\n`;
    const parts: Buffer[] = [Buffer.from('!<arch>\n')];
    for (let i = 0; i < 10; i++) {
      const gz = Buffer.from(pako.gzip(`member ${i}\n`, { header: { name: `m${i}.txt`, time: 1000 + i } } as never));
      parts.push(Buffer.from(hdr(`m${i}.gz/`, gz.length), 'latin1'), gz, Buffer.from(gz.length % 2 ? '\n' : ''));
    }
    const r = await norm(Buffer.concat(parts), 'many.a');
    expect(r.status).toBe('changed');
    const nested = r.changes.filter((c) => c.kind === 'timestamp' || c.kind === 'metadata');
    expect(nested.length).toBeLessThanOrEqual(2);
    expect(nested.reduce((a, c) => a + (c.count ?? 1), 0)).toBe(20);
    expect(mergeNested([{ kind: 'owner', what: 'x', member: 'a' }, { kind: 'owner', what: 'x', member: 'b', count: 2 }])).toEqual([
      { kind: 'owner', what: 'x (in 2 members)', count: 3 },
    ]);
  });
});

describe.runIf(HAVE_AR && HAVE_NM)('the reference tools accept every golden output', () => {
  it('ar t and nm -s on corpus/ar/*.out; dpkg-deb on the .deb', async () => {
    const { readdirSync } = await import('node:fs');
    const cdir = new URL('../corpus/ar/', import.meta.url).pathname;
    const outs = readdirSync(cdir).filter((f) => f.endsWith('.out'));
    expect(outs.length).toBeGreaterThan(5);
    for (const f of outs) {
      const names = run('ar', ['t', cdir + f.slice(0, -4)]).toString().split('\n').filter(Boolean);
      // Same names in the same order (sorted for the sortArMembers case).
      const want = f.startsWith('unsorted') ? [...names].sort() : names;
      expect(run('ar', ['t', cdir + f]).toString(), f).toBe(want.map((n) => `${n}\n`).join(''));
      run('nm', ['-s', cdir + f]);
      if (f.endsWith('.deb.out') && HAVE_DPKG) run('dpkg-deb', ['-c', cdir + f]);
    }
  });
});
