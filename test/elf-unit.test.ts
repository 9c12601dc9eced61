// ELF: string tables, path mapping rules, build-ids of the three linkers, other classes and
// byte orders, and fuzzed inputs.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySpill } from '../src/engine.js';
import { BufferSink, BufferSource, bytesEqual } from '../src/io.js';
import { defaultOptions } from '../src/options.js';
import { FormatError, type Context } from '../src/types.js';
import { computeBuildId, detectLinker, verifyBuildId, xxh64 } from '../formats/elf/buildid.js';
import { buildStringTable, canonicalTable, makePathMapper, readCString } from '../formats/dwarf/strings.js';
import { Image } from '../formats/elf/image.js';
import { findBuildId, parseElf } from '../formats/elf/elf.js';
import { elfHandler } from '../formats/elf/index.js';
import { haveTool, norm, tempDir } from './helpers.js';

const HAVE = haveTool('gcc') && haveTool('readelf');
const tmp = HAVE ? tempDir('detnorm-elfu-') : { dir: '', cleanup: () => {} };
const root = tmp.dir;
afterAll(() => tmp.cleanup());

const MAIN = '#include <stdio.h>\nstatic const char *name = "x";\nint main(void) { printf("%s\\n", name); return 0; }\n';

let seq = 0;
/** readelf on bytes (it wants an ordinary file). */
function readelf(bytes: Uint8Array, args: string[]) {
  const f = join(root, `readelf-${seq++}`);
  writeFileSync(f, bytes);
  return spawnSync('readelf', [...args, f]);
}

function gcc(args: string[], cwd = root): boolean {
  return spawnSync('gcc', args, { cwd }).status === 0;
}

describe('ELF strings: canonical tables', () => {
  it('depend on the set of strings only, share tails, and resolve every string', () => {
    const set = ['main.c', '/build/src/main.c', 'int', 'unsigned int', 'char', 'c', '', 'long unsigned int'];
    const a = buildStringTable(set);
    const b = buildStringTable([...set].reverse().concat(['int']));
    expect(bytesEqual(a.bytes, b.bytes)).toBe(true);
    for (const s of set) expect(readCString(a.bytes, a.offsetOf.get(s)!, 't')).toBe(s);
    // Suffixes are not stored twice.
    expect(Buffer.from(a.bytes).toString('latin1')).not.toContain('main.c\0/');
    expect(a.bytes.length).toBe(['/build/src/main.c', 'char', 'long unsigned int'].reduce((n, s) => n + s.length + 1, 0));
  });
  it('property: any set round-trips and is order independent', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '/', 'c') }), { maxLength: 30 }), (strs) => {
        const t = buildStringTable(strs);
        const t2 = buildStringTable([...strs].sort());
        expect(bytesEqual(t.bytes, t2.bytes)).toBe(true);
        for (const s of strs) expect(readCString(t.bytes, t.offsetOf.get(s)!, 't')).toBe(s);
      }),
    );
  });
});

/** The canonical table by its definition: unique strings by reversed text, suffixes merged into their successor. */
function modelTable(strings: readonly string[]): Buffer {
  const rev = (x: string) => [...x].reverse().join('');
  const uniq = [...new Set(strings)].sort((a, b) => (rev(a) < rev(b) ? -1 : rev(a) > rev(b) ? 1 : 0));
  const kept = uniq.filter((x, k) => !(k + 1 < uniq.length && uniq[k + 1]!.endsWith(x)));
  return Buffer.from(kept.map((x) => x + '\0').join(''), 'latin1');
}

describe('ELF strings: the radix sort and tail merging agree with the definition on large tables', () => {
  // Many strings (the radix path, not the small-bucket insertion sort), a small alphabet and
  // long shared tails (the common-suffix skip, past its 256-byte step), as in mangled C++ names.
  const word = fc.string({ unit: fc.constantFrom('a', 'b', '/', 'E', 'v'), maxLength: 12 });
  const tail = fc.constantFrom('', 'EEvT_', 'x'.repeat(300), 'y'.repeat(257) + 'EEvT_', 'ab'.repeat(140));
  const strs = fc.array(fc.tuple(word, tail).map(([w, t]) => w + t), { minLength: 200, maxLength: 1500 });
  it('property: bytes equal the model; every string resolves', () => {
    fc.assert(
      fc.property(strs, (list) => {
        const t = buildStringTable(list);
        expect(Buffer.from(t.bytes).equals(modelTable(list))).toBe(true);
        for (const x of list) expect(readCString(t.bytes, t.offsetOf.get(x)!, 't')).toBe(x);
      }),
      { numRuns: 25 },
    );
  });
  it('property: mapped strings (kept aside from the table) merge into the same order', () => {
    const mapper = makePathMapper([{ from: '/a', to: '/build/src-longer' }]);
    fc.assert(
      fc.property(strs, (list) => {
        const table = Buffer.from(list.map((x) => x + '\0').join(''), 'latin1');
        const refs: number[] = [];
        let at = 0;
        for (const x of list) {
          refs.push(at);
          at += x.length + 1;
        }
        const t = canonicalTable(table, refs, mapper, 't');
        const mappedList = list.map((x) => mapper.map(x));
        expect(t.mapped).toBe(list.filter((x, k) => mappedList[k] !== x).length);
        expect(Buffer.from(t.bytes).equals(modelTable(mappedList))).toBe(true);
        list.forEach((x, k) => expect(readCString(t.bytes, t.newOffset(refs[k]!), 't')).toBe(mappedList[k]));
      }),
      { numRuns: 25 },
    );
  });
});

describe('ELF output image: pieces with zeros between them', () => {
  const a = Uint8Array.from([1, 2, 3, 4]);
  const b = Uint8Array.from([5, 6]);
  const flat = Uint8Array.from([0, 1, 2, 3, 4, 0, 0, 5, 6, 0]);
  const make = () => new Image([{ at: 7, data: b }, { at: 1, data: a }], 10);
  it('reads any range as the flat file would, and writes exactly that file', async () => {
    const img = make();
    for (let s = 0; s <= 10; s++) for (let e = s; e <= 10; e++) expect([...img.subarray(s, e)]).toEqual([...flat.subarray(s, e)]);
    expect(img.subarray(2, 4).buffer).toBe(a.buffer); // a view when one piece holds the range
    const sink = new BufferSink();
    await img.writeTo(sink);
    expect([...sink.bytes()]).toEqual([...flat]);
    expect(img.equals(flat)).toBe(true);
    expect(img.equals(Uint8Array.from([...flat.subarray(0, 9), 1]))).toBe(false);
  });
  it('patches without touching the bytes it was built from', async () => {
    const img = make();
    img.patch(2, Uint8Array.from([9, 9]));
    expect([...a]).toEqual([1, 2, 3, 4]);
    const sink = new BufferSink();
    await img.writeTo(sink);
    expect([...sink.bytes()]).toEqual([0, 1, 9, 9, 4, 0, 0, 5, 6, 0]);
    expect(() => img.patch(4, Uint8Array.from([1, 1]))).toThrow(FormatError); // spans a gap
    expect(() => new Image([{ at: 0, data: a }, { at: 3, data: b }], 10)).toThrow(FormatError); // overlap
  });
});

describe('ELF detection: by magic bytes only', () => {
  it('a linker script named .so and bitcode named .o are not claimed', async () => {
    const script = Buffer.from('/* GNU ld script */\nOUTPUT_FORMAT(elf64-x86-64)\nGROUP ( /lib/libc.so.6 )\n');
    expect((await norm(script, 'libc.so')).status).toBe('ignored');
    expect((await norm(Buffer.from('BC\xc0\xde\x35\x14\x00\x00', 'latin1'), 'x.o')).status).toBe('ignored');
  });
});

describe('ELF --map-path: longest prefix, at a path component boundary', () => {
  const m = makePathMapper([
    { from: '/tmp/a', to: '/build' },
    { from: '/tmp/a/sub', to: '/other' },
  ]);
  it('maps', () => {
    expect(m.map('/tmp/a')).toBe('/build');
    expect(m.map('/tmp/a/x.c')).toBe('/build/x.c');
    expect(m.map('/tmp/a/sub/y.c')).toBe('/other/y.c');
    expect(m.map('/tmp/ab/x.c')).toBe('/tmp/ab/x.c');
    expect(m.map('x/tmp/a/x.c')).toBe('x/tmp/a/x.c');
  });
  it('maps UTF-8 paths byte-wise', () => {
    const u = makePathMapper([{ from: '/tmp/é', to: '/b' }]);
    expect(u.map(Buffer.from('/tmp/é/x', 'utf8').toString('latin1'))).toBe('/b/x');
  });
});

describe.skipIf(!HAVE)('ELF build-id: our algorithm gives the linker\'s own id on unmodified files', () => {
  beforeAll(() => {
    writeFileSync(join(root, 'main.c'), MAIN);
    expect(gcc(['-g', '-c', join(root, 'main.c'), '-o', 'main.o'])).toBe(true);
  });
  const linkers: Array<[string, string[], string]> = [
    ['GNU ld sha1', ['-fuse-ld=bfd', '-Wl,--build-id=sha1'], 'GNU ld'],
    ['GNU ld md5', ['-fuse-ld=bfd', '-Wl,--build-id=md5'], 'GNU ld'],
    ['GNU ld default, -gz', ['-fuse-ld=bfd', '-gz'], 'GNU ld'],
    ['gold sha1', ['-fuse-ld=gold', '-Wl,--build-id=sha1'], 'gold'],
    ['gold md5', ['-fuse-ld=gold', '-Wl,--build-id=md5'], 'gold'],
    ['lld sha1', ['-fuse-ld=lld', '-Wl,--build-id=sha1'], 'lld'],
    ['lld md5', ['-fuse-ld=lld', '-Wl,--build-id=md5'], 'lld'],
    ['lld default (fast: xxHash64)', ['-fuse-ld=lld'], 'lld'],
  ];
  for (const [label, flags, linker] of linkers) {
    const tool = linker === 'gold' ? 'ld.gold' : linker === 'lld' ? 'ld.lld' : 'ld.bfd';
    it.skipIf(!haveTool(tool))(label, async () => {
      const exe = `prog-${label.replace(/\W+/g, '-')}`;
      expect(gcc(['-g', ...flags, '-o', exe, 'main.o'])).toBe(true);
      const bytes = new Uint8Array(readFileSync(join(root, exe)));
      const elf = parseElf(bytes);
      expect(detectLinker(elf)).toBe(linker);
      const note = findBuildId(elf)!;
      const id = computeBuildId(detectLinker(elf), elf, note)!;
      expect(Buffer.from(id).toString('hex')).toBe(Buffer.from(bytes.subarray(note.fileOffset, note.fileOffset + note.size)).toString('hex'));
      // Normalized (with a path mapped), the id is recomputed and still what the linker's algorithm gives.
      const r = await norm(bytes, exe, { mapPaths: [{ from: root, to: '/build/src' }] });
      expect(r.status).toBe('changed');
      expect(r.notices).toEqual([]);
      const out = parseElf(r.output);
      const n2 = findBuildId(out)!;
      expect(bytesEqual(computeBuildId(linker as 'lld', out, n2)!, r.output.subarray(n2.fileOffset, n2.fileOffset + n2.size))).toBe(true);
      expect(readelf(r.output, ['-n', '-W']).stdout.toString()).toContain('Build ID');
    });
  }
  for (const [style, want] of [['--build-id', 'gold tree'], ['--build-id=sha1', 'gold']] as const) {
    it.skipIf(!haveTool('ld.gold'))(`gold ${style} above 40 MiB (${want === 'gold tree' ? 'SHA1 of the MD5s of 2 MiB chunks' : 'whole file'})`, () => {
      writeFileSync(join(root, 'big.c'), 'char big[48 << 20] = {1};\nint main(void) { return big[12345]; }\n');
      expect(gcc(['-fuse-ld=gold', `-Wl,${style}`, '-o', 'big-gold', 'big.c'])).toBe(true);
      const bytes = new Uint8Array(readFileSync(join(root, 'big-gold')));
      expect(bytes.length).toBeGreaterThan(40 << 20);
      const elf = parseElf(bytes);
      const note = findBuildId(elf)!;
      expect(verifyBuildId(elf, note).algorithm).toBe(want);
    });
  }
  it('an id the algorithm does not explain is kept, with a notice', async () => {
    expect(gcc(['-g', '-Wl,--build-id=0x0123456789abcdef0123456789abcdef01234567', '-o', 'hexid', 'main.o'])).toBe(true);
    const bytes = new Uint8Array(readFileSync(join(root, 'hexid')));
    const r = await norm(bytes, 'hexid');
    expect(r.notices.join('\n')).toContain('build-id is not what GNU ld computes');
    const note = findBuildId(parseElf(r.output))!;
    expect(Buffer.from(r.output.subarray(note.fileOffset, note.fileOffset + note.size)).toString('hex')).toBe('0123456789abcdef0123456789abcdef01234567');
  });
  it('xxHash64 known answers', () => {
    expect(Buffer.from(xxh64(new Uint8Array(0))).reverse().toString('hex')).toBe('ef46db3751d8e999');
    expect(Buffer.from(xxh64(Buffer.from('abc'))).reverse().toString('hex')).toBe('44bc2cf5ad770999');
  });
});

describe.skipIf(!HAVE)('ELF: other classes and byte orders converge too', () => {
  const targets: Array<[string, string, string[]]> = [
    ['i386 (ELF32, REL relocations)', 'gcc', ['-m32']],
    ['s390x (ELF64 big-endian)', 's390x-linux-gnu-gcc-12', []],
    ['powerpc (ELF32 big-endian)', 'powerpc-linux-gnu-gcc-12', []],
  ];
  for (const [label, cc, flags] of targets) {
    for (const dwarf of ['-gdwarf-4', '-gdwarf-5']) {
      it(`${label} ${dwarf}`, async (ctx) => {
        if (!haveTool(cc)) return ctx.skip();
        const outs: Uint8Array[] = [];
        for (const co of ['ck1', 'ck2']) {
          const dir = join(root, `${co}-${cc}${dwarf}${flags.join('')}`);
          execFileSync('mkdir', ['-p', dir]);
          writeFileSync(join(dir, 'main.c'), MAIN);
          const r = spawnSync(cc, [...flags, '-g', dwarf, '-O2', '-c', join(dir, 'main.c'), '-o', join(dir, 'main.o')]);
          if (r.status !== 0) {
            // e.g. no gcc-12-multilib for -m32: a skip locally, a failure in CI (.ci/run installs it)
            if (process.env.CI) throw new Error(`${cc} ${flags.join(' ')} failed in CI: ${r.stderr.toString()}`);
            return ctx.skip();
          }
          const n = await norm(readFileSync(join(dir, 'main.o')), 'main.o', { mapPaths: [{ from: dir, to: '/build/src' }] });
          expect(n.status, n.reason).toBe('changed');
          const dd = readelf(n.output, ['--debug-dump=info,line']);
          expect(dd.stderr.toString()).toBe('');
          expect(dd.stdout.toString()).toContain('/build/src');
          outs.push(n.output);
        }
        expect(bytesEqual(outs[0]!, outs[1]!)).toBe(true);
      });
    }
  }
});

describe.skipIf(!HAVE)('ELF: programs linked by gold and lld converge too', () => {
  for (const [linker, tool] of [['gold', 'ld.gold'], ['lld', 'ld.lld']] as const) {
    it(linker, async (ctx) => {
      if (!haveTool(tool)) return ctx.skip();
      const outs: Uint8Array[] = [];
      for (const co of [`${linker}-aa`, `${linker}-bb`]) {
        const dir = join(root, co);
        execFileSync('mkdir', ['-p', dir]);
        writeFileSync(join(dir, 'main.c'), MAIN);
        expect(gcc(['-g', '-O2', `-fuse-ld=${linker}`, join(dir, 'main.c'), '-o', join(dir, 'prog')], dir)).toBe(true);
        const n = await norm(readFileSync(join(dir, 'prog')), 'prog', { mapPaths: [{ from: dir, to: '/build/src' }] });
        expect(n.status, n.reason).toBe('changed');
        expect(n.notices).toEqual([]);
        outs.push(n.output);
      }
      expect(bytesEqual(outs[0]!, outs[1]!)).toBe(true);
    });
  }
});

describe.skipIf(!HAVE || !haveTool('objcopy'))('ELF: separate debug files (objcopy --only-keep-debug) converge', () => {
  it('two checkouts', async () => {
    const outs: Uint8Array[] = [];
    for (const co of ['dbg-aa', 'dbg-bb']) {
      const dir = join(root, co);
      execFileSync('mkdir', ['-p', dir]);
      writeFileSync(join(dir, 'main.c'), MAIN);
      expect(gcc(['-g', '-O2', join(dir, 'main.c'), '-o', join(dir, 'prog')], dir)).toBe(true);
      execFileSync('objcopy', ['--only-keep-debug', join(dir, 'prog'), join(dir, 'prog.debug')]);
      const n = await norm(readFileSync(join(dir, 'prog.debug')), 'prog.debug', { mapPaths: [{ from: dir, to: '/build/src' }] });
      expect(n.status, n.reason).toBe('changed');
      // The id of a debug file is its binary's: not computable from it, so kept as is.
      expect(n.notices.join()).toContain('kept');
      expect(Buffer.from(n.output).includes(Buffer.from(dir))).toBe(false);
      outs.push(n.output);
    }
    expect(bytesEqual(outs[0]!, outs[1]!)).toBe(false); // the ids differ: each is its own binary's
    const a = parseElf(outs[0]!);
    const b = parseElf(outs[1]!);
    for (const s of a.sections) {
      if (s.name === '.note.gnu.build-id') continue;
      expect(bytesEqual(outs[0]!.subarray(s.offset, s.offset + (s.type === 8 ? 0 : s.size)), outs[1]!.subarray(b.sections[s.index]!.offset, b.sections[s.index]!.offset + (s.type === 8 ? 0 : s.size))), s.name).toBe(true);
    }
  });
});

describe.skipIf(!HAVE || !haveTool('objcopy') || !haveTool('gdb'))('ELF: .gnu_debuglink keeps the CRC of the normalized debug file', () => {
  it('a stripped binary and its .debug file normalized together: GDB still loads the pair', async () => {
    const { normalizeTree } = await import('../src/api.js');
    const { crc32 } = await import('../formats/crc32.js');
    const dir = join(root, 'debuglink-checkout');
    execFileSync('mkdir', ['-p', join(dir, 'out')]);
    writeFileSync(join(dir, 'main.c'), MAIN);
    const prog = join(dir, 'out', 'prog');
    expect(gcc(['-g', '-O0', join(dir, 'main.c'), '-o', prog], dir)).toBe(true);
    execFileSync('objcopy', ['--only-keep-debug', prog, `${prog}.debug`]);
    execFileSync('objcopy', ['--strip-debug', `--add-gnu-debuglink=${prog}.debug`, prog], { cwd: join(dir, 'out') });
    const linkCrc = () => {
      const e = parseElf(readFileSync(prog));
      const s = e.sections.find((x) => x.name === '.gnu_debuglink')!;
      return e.bin.u32(s.offset + s.size - 4);
    };
    const crcBefore = linkCrc();
    expect(crcBefore).toBe(crc32(readFileSync(`${prog}.debug`)) >>> 0);
    const r = await normalizeTree(join(dir, 'out'), { mapPaths: [{ from: dir, to: '/build/src' }], jobs: 1 });
    expect(r.reports.map((x) => [x.path.split('/').pop(), x.status])).toEqual([['prog', 'changed'], ['prog.debug', 'changed']]);
    expect(r.reports[0]!.changes.map((c) => c.what).join()).toContain('.gnu_debuglink CRC');
    expect(linkCrc()).not.toBe(crcBefore);
    expect(linkCrc()).toBe(crc32(readFileSync(`${prog}.debug`)) >>> 0);
    const g = spawnSync('gdb', ['-nx', '-batch', '-ex', 'info line main', prog]);
    expect(g.stderr.toString()).not.toMatch(/does not match|CRC mismatch/);
    expect(g.stdout.toString()).toContain('/build/src/main.c');
    // Idempotent, also with the pair in the other order of work (-j2: either may go first).
    const again = await normalizeTree(join(dir, 'out'), { mapPaths: [{ from: dir, to: '/build/src' }], jobs: 2 });
    expect(again.reports.map((x) => x.status)).toEqual(['unchanged', 'unchanged']);
  });
  it('a debug file of another build under the linked name is not the pair: CRC kept, with a notice', async () => {
    const { normalizeTree } = await import('../src/api.js');
    const dir = join(root, 'debuglink-stale');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'main.c'), MAIN);
    writeFileSync(join(dir, 'other.c'), MAIN.replace('return 0;', 'return name[0] == 1 ? 3 : 0;'));
    const prog = join(dir, 'prog');
    expect(gcc(['-g', '-O0', join(dir, 'main.c'), '-o', prog], dir)).toBe(true);
    expect(gcc(['-g', '-O0', join(dir, 'other.c'), '-o', join(dir, 'other')], dir)).toBe(true);
    execFileSync('objcopy', ['--only-keep-debug', prog, `${prog}.debug`]);
    execFileSync('objcopy', ['--strip-debug', `--add-gnu-debuglink=${prog}.debug`, prog], { cwd: dir });
    // The other program's debug file takes the name: another .text, another build-id.
    execFileSync('objcopy', ['--only-keep-debug', join(dir, 'other'), `${prog}.debug`]);
    const r = await normalizeTree(dir, { mapPaths: [{ from: dir, to: '/build/src' }], jobs: 1 });
    const p = r.reports.find((x) => x.path === prog)!;
    expect(p.notices.join()).toMatch(/not this binary's \(prog\.debug: loaded section .* (differs|another)/);
    expect(p.changes.map((c) => c.what).join()).not.toContain('.gnu_debuglink');
  });
});

describe('ELF .gnu_debuglink: hostile sections and siblings leave the CRC alone', () => {
  const section = (name: string, crc: number): Uint8Array => {
    const n = Buffer.from(name + '\0');
    const out = new Uint8Array(((n.length + 3) & ~3) + 4);
    out.set(n, 0);
    new DataView(out.buffer).setUint32(out.length - 4, crc, true);
    return out;
  };
  const fake = (sibling: (rel: string) => Promise<Uint8Array | undefined>, notices: string[]): Context => ({
    options: defaultOptions(),
    path: 'prog',
    depth: 0,
    normalizeMember: async () => ({ changed: false }),
    spill: () => new MemorySpill(),
    notice: (m) => notices.push(m),
    sibling,
  });
  it('malformed sections, names with a directory, absent files: nothing read, nothing changed', async () => {
    const { updateDebugLink } = await import('../formats/debuglink.js');
    const reads: string[] = [];
    const notices: string[] = [];
    const c = fake(async (rel) => (reads.push(rel), undefined), notices);
    const changes: never[] = [];
    const pair = () => undefined;
    expect(await updateDebugLink(new Uint8Array([1, 2, 3]), true, c, changes, pair)).toBeUndefined(); // no NUL
    expect(await updateDebugLink(new Uint8Array(8), true, c, changes, pair)).toBeUndefined(); // empty name
    expect(await updateDebugLink(section('../etc/passwd', 1), true, c, changes, pair)).toBeUndefined();
    expect(await updateDebugLink(section('..', 1), true, c, changes, pair)).toBeUndefined();
    expect(await updateDebugLink(section('dir\\prog.debug', 1), true, c, changes, pair)).toBeUndefined();
    expect(reads).toEqual([]);
    expect(await updateDebugLink(section('prog.debug', 1), true, c, changes, pair)).toBeUndefined(); // absent
    expect(reads).toEqual(['prog.debug', '.debug/prog.debug']);
    expect(notices).toEqual([]);
    expect(changes).toEqual([]);
  });
  it('a sibling that cannot be read, or that is not the pair: a notice, the CRC kept', async () => {
    const { updateDebugLink } = await import('../formats/debuglink.js');
    const { crc32 } = await import('../formats/crc32.js');
    const notices: string[] = [];
    const changes: Array<{ what: string }> = [];
    const pair = () => undefined;
    const throwing = fake(async () => {
      throw new RangeError('file too large');
    }, notices);
    expect(await updateDebugLink(section('prog.debug', 1), true, throwing, changes as never[], pair)).toBeUndefined();
    expect(notices.at(-1)).toMatch(/could not be checked \(file too large\); CRC kept/);
    const other = Buffer.from('not the debug file');
    const stranger = fake(async () => other, notices);
    expect(await updateDebugLink(section('prog.debug', 1), true, stranger, changes as never[], () => 'another build')).toBeUndefined();
    expect(notices.at(-1)).toBe(".gnu_debuglink: the CRC does not match the normalized debug file, which is not this binary's (prog.debug: another build; .debug/prog.debug: another build); CRC kept");
    // The right CRC and a file that normalizing does not change: nothing to do, nothing said.
    const n = notices.length;
    expect(await updateDebugLink(section('prog.debug', crc32(other) >>> 0), true, stranger, changes as never[], () => 'never asked')).toBeUndefined();
    expect(notices.length).toBe(n);
    expect(changes).toEqual([]);
    // The pair with a stale CRC: the CRC of the file (as normalized), in the target byte order.
    const be = await updateDebugLink(section('prog.debug', 1), false, stranger, changes as never[], pair);
    expect(new DataView(be!.buffer).getUint32(be!.length - 4, false)).toBe(crc32(other) >>> 0);
    expect(changes.map((c) => c.what)).toEqual(['.gnu_debuglink CRC set to that of the normalized prog.debug']);
    // GDB's order: beside the binary first, then .debug/; the first that is the pair wins.
    const both = fake(async (rel) => Buffer.from(rel), notices);
    const second = await updateDebugLink(section('prog.debug', 1), true, both, [], (d) => (Buffer.from(d).toString() === 'prog.debug' ? 'not it' : undefined));
    expect(new DataView(second!.buffer).getUint32(second!.length - 4, true)).toBe(crc32(Buffer.from('.debug/prog.debug')) >>> 0);
  });
});

function ctx(): Context {
  return {
    options: defaultOptions({ mapPaths: [{ from: '/tmp', to: '/build/src/longer/than/before' }] }),
    path: 'fuzz',
    depth: 0,
    normalizeMember: async () => ({ changed: false }),
    spill: () => new MemorySpill(),
    notice: () => {},
  };
}

async function fuzz(base: Uint8Array, runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.option(fc.nat(base.length), { nil: undefined }),
      async (edits, cut) => {
        const b = Uint8Array.from(base);
        for (const [at, v] of edits) b[at] = v;
        const input = cut === undefined ? b : b.subarray(0, cut);
        const sink = new BufferSink();
        const t0 = performance.now();
        try {
          const r = await elfHandler.normalize(new BufferSource(input), sink, ctx());
          if (r.status === 'normalized') parseElf(sink.bytes());
        } catch (e) {
          if (!(e instanceof FormatError || e instanceof RangeError)) throw e;
        }
        expect(performance.now() - t0).toBeLessThan(2000);
      },
    ),
    { numRuns: runs, seed: 7 },
  );
}

describe('ELF: fuzzed 32-bit and big-endian objects (corpus files)', () => {
  for (const f of ['i386-dwarf5.o', 's390x-dwarf4.o']) {
    it(f, async () => {
      await fuzz(new Uint8Array(readFileSync(new URL(`../corpus/elf/${f}`, import.meta.url))), 200);
    }, 60_000);
  }
});

describe.skipIf(!HAVE)('ELF: fuzzed inputs give a FormatError or a valid output, never a crash or a hang', () => {
  for (const [label, args] of [
    ['.o, DWARF 5', ['-g', '-c']],
    ['.o, DWARF 4, -gz', ['-g', '-gdwarf-4', '-gz', '-c']],
    ['program', ['-g', '-O2']],
  ] as const) {
    it(label, async () => {
      writeFileSync(join(root, 'fz.c'), MAIN);
      const name = `fz-${label.replace(/\W+/g, '')}`;
      expect(gcc([...args, join(root, 'fz.c'), '-o', name])).toBe(true);
      const base = new Uint8Array(readFileSync(join(root, name)));
      await fuzz(base, label === 'program' ? 150 : 300);
    }, 60_000);
  }
});
