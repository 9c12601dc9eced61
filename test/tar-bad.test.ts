// Bad tar input: truncation, bad checksums, negative or overflowing sizes, bad pax records,
// "../" names. Each is a clean FormatError (file left untouched) or is normalized without any
// extraction; never a crash. The handler never touches the file system.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { setChecksum } from '../formats/tar/header.js';
import { haveTool, norm, tempDir } from './helpers.js';
import { makeTree, pythonList, tarList } from './tar-helpers.js';

const ok = haveTool('tar') && haveTool('python3');
const tmp = tempDir('detnorm-tar-bad-');
afterAll(() => tmp.cleanup());

function sample(format: 'gnu' | 'posix' | 'ustar' = 'gnu'): Buffer {
  const d = join(tmp.dir, `s-${format}`);
  makeTree(d, [
    { path: 'a', type: 'file', content: 'A'.repeat(700) },
    { path: 'b', type: 'file', content: 'B' },
  ]);
  return execFileSync('tar', ['-C', d, `--format=${format}`, '--sort=name', '-cf', '-', 'a', 'b']);
}

async function rejected(bytes: Uint8Array, reason: RegExp): Promise<void> {
  const r = await norm(bytes, 'x.tar');
  expect(r.status, r.reason).toBe('error');
  expect(r.reason).toMatch(reason);
  expect(Buffer.from(r.output).equals(Buffer.from(bytes))).toBe(true);
}

describe.skipIf(!ok)('truncated archives are FormatErrors', () => {
  it('cut inside a header, inside data, inside padding', async () => {
    const t = sample();
    await rejected(t.subarray(0, 300), /truncated header at offset 0/);
    await rejected(t.subarray(0, 512 + 100), /truncated data of "a"/);
    await rejected(t.subarray(0, 1536 + 200), /truncated/);
  });
  it('a pax header with no member after it', async () => {
    const t = sample('posix');
    const d = join(tmp.dir, 'pl');
    makeTree(d, [{ path: 'é', type: 'file', content: '' }]);
    const p = execFileSync('tar', ['-C', d, '--format=posix', '-cf', '-', 'é']);
    await rejected(Buffer.concat([p.subarray(0, 1024), Buffer.alloc(1024)]), /not followed by a member/);
    void t;
  });
});

describe.skipIf(!ok)('bad checksums and bad numeric fields', () => {
  it('a flipped byte in the second header', async () => {
    const t = Buffer.from(sample());
    t[1536 + 10] ^= 0x20; // second member's header (after 512 + 1024 bytes), name field
    await rejected(t, /bad header checksum at offset 1536/);
  });
  it('a negative (base-256) size and an overflowing size field', async () => {
    const t = Buffer.from(sample());
    t.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00], 124);
    setChecksum(t.subarray(0, 512));
    await rejected(t, /negative size/);
    const u = Buffer.from(sample());
    u.set([0x80, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 124);
    setChecksum(u.subarray(0, 512));
    await rejected(u, /size field out of range/);
    const v = Buffer.from(sample());
    v.write('77777777777\0', 124, 'latin1');
    setChecksum(v.subarray(0, 512));
    await rejected(v, /truncated data/);
  });
  it('junk in an octal field', async () => {
    const t = Buffer.from(sample());
    t.write('00x0644\0', 100, 'latin1');
    setChecksum(t.subarray(0, 512));
    await rejected(t, /bad mode field/);
  });
});

describe.skipIf(!ok)('pax records with bad lengths', () => {
  it('a record whose length overruns, and one without its newline', async () => {
    const d = join(tmp.dir, 'px');
    makeTree(d, [{ path: 'ü', type: 'file', content: 'x' }]);
    const p = Buffer.from(execFileSync('tar', ['-C', d, '--format=posix', '-cf', '-', 'ü']));
    const size = parseInt(p.subarray(124, 135).toString(), 8);
    const data = p.subarray(512, 512 + size).toString('latin1');
    const at = data.indexOf(' path=');
    const lenText = data.slice(data.lastIndexOf('\n', at) + 1, at);
    const bad = Buffer.from(p);
    bad.write(String(Number(lenText) + 50).padStart(lenText.length, '9').slice(-lenText.length), 512 + data.lastIndexOf('\n', at) + 1, 'latin1');
    await rejected(bad, /pax header at 0: record/);
  });
});

describe.skipIf(!ok)('"../" and absolute names are normalized as data, never extracted', () => {
  it('keeps the names, sorts them, and GNU tar lists the result', async () => {
    const d = join(tmp.dir, 'dots');
    makeTree(d, [{ path: 'in/f', type: 'file', content: 'x' }]);
    writeFileSync(join(tmp.dir, 'outside'), 'must not change');
    const t = execFileSync('tar', ['-C', join(d, 'in'), '-P', '--format=gnu', '-cf', '-', '../in/f', join(tmp.dir, 'outside')]);
    const r = await norm(t, 'x.tar', { timestamp: 1 });
    expect(r.status).toBe('changed');
    const names = pythonList(r.output);
    expect(names).toContain('../in/f');
    expect(names.some((n) => n.endsWith('/outside'))).toBe(true);
    expect(tarList(r.output)).toContain('../in/f');
  });
});

describe.skipIf(!ok)('fuzzing: mutated archives never crash the handler', () => {
  it('random byte edits give normalized output or a FormatError/RangeError reason', async () => {
    const base = Buffer.from(sample('posix'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.boolean(), async (edits, fix) => {
        const b = Buffer.from(base);
        for (const [at, v] of edits) b[at] = v;
        if (fix) for (let h = 0; h + 512 <= b.length; h += 512) if (b.subarray(h + 257, h + 262).toString() === 'ustar') setChecksum(b.subarray(h, h + 512));
        const r = await norm(b, 'x.tar');
        expect(['changed', 'unchanged', 'error', 'untouched', 'ignored']).toContain(r.status);
        if (r.status === 'error') expect(r.reason).not.toMatch(/^(TypeError|Error|ReferenceError)/);
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});

// .tar.bz2/.tar.xz/.tar.zst/.tar.lz4 are normalized since issue 15: test/compressed-tar.test.ts.
