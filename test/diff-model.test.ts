// The difference model's rules (formats/compare.ts) on their own, and the rule that the core
// knows no format: src/ imports nothing of formats/ but the registry.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HANDLERS } from '../formats/index.js';
import { clockCause, compareMemberLists, movedCount, orderCause, ownerCause, pathPrefixes, umaskCause, zoneOffset, type FieldSpec } from '../formats/compare.js';
import { BufferSource } from '../src/io.js';
import { describeDifference } from '../src/diff.js';
import type { MemberInfo } from '../src/types.js';

const SRC = new URL('../src/', import.meta.url).pathname;

describe('the core knows no format', () => {
  it('src/ imports nothing from formats/ except the registry (formats/index.js)', () => {
    const offenders: string[] = [];
    for (const f of readdirSync(SRC).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(SRC, f), 'utf8');
      for (const m of text.matchAll(/from\s+['"]([^'"]*formats\/[^'"]*)['"]/g)) if (m[1] !== '../formats/index.js') offenders.push(`${f}: ${m[1]}`);
      for (const m of text.matchAll(/import\(\s*['"]([^'"]*formats\/[^'"]*)['"]/g)) offenders.push(`${f}: ${m[1]}`);
    }
    expect(offenders).toEqual([]);
  });
  it('every handler but the trivial ones compares its own fields; directory artifacts come through the registry', () => {
    const withCompare = HANDLERS.filter((h) => h.compare).map((h) => h.name);
    expect(withCompare).toEqual(expect.arrayContaining(['pyc', 'gzip', 'ar', 'oci', 'tar', 'cpio', 'zip', 'elf']));
    const dirs = HANDLERS.filter((h) => h.detectDirectory);
    expect(dirs.map((h) => h.name)).toEqual(['oci']);
    expect(dirs[0]!.detectDirectory!(['blobs', 'index.json', 'oci-layout'])).toBe(true);
    expect(dirs[0]!.detectDirectory!(['index.json'])).toBe(false);
  });
});

describe('order: members moved and why', () => {
  it('counts the fewest members that must move', () => {
    expect(movedCount(['a', 'b', 'c', 'd'], ['a', 'b', 'c', 'd'])).toBe(0);
    expect(movedCount(['a', 'b', 'c', 'd'], ['d', 'a', 'b', 'c'])).toBe(1);
    expect(movedCount(['a', 'b', 'c', 'd'], ['d', 'c', 'b', 'a'])).toBe(3);
  });
  it('a locale-dependent sort: one side bytewise, the other case-blind', () => {
    expect(orderCause(['B.txt', 'a.txt', 'c.txt'], ['a.txt', 'B.txt', 'c.txt'])).toMatch(/B is sorted by a locale's collation .* A bytewise: a sort that depends on LC_COLLATE/);
  });
  it('one sorted, one in readdir order; neither sorted', () => {
    expect(orderCause(['a', 'b', 'c'], ['c', 'a', 'b'])).toMatch(/A is sorted by name, B is not: B kept its file system's readdir/);
    expect(orderCause(['b', 'c', 'a'], ['c', 'a', 'b'])).toMatch(/neither side is sorted/);
  });
});

describe('times: a whole time-zone offset, each build\'s clock', () => {
  it('zone offsets are whole quarter hours up to 14 h', () => {
    expect(zoneOffset(19800)).toBe('+05:30');
    expect(zoneOffset(-18000)).toBe('-05:00');
    expect(zoneOffset(3601)).toBeUndefined();
    expect(zoneOffset(0)).toBeUndefined();
    expect(zoneOffset(15 * 3600)).toBeUndefined();
  });
  it('the clock: all times on each side within minutes of that side\'s newest', () => {
    expect(clockCause([1000, 1005, 1010], [9000, 9001])).toMatch(/within 10 s of that side's newest .*SOURCE_DATE_EPOCH was not passed/);
    // Sources of many dates on one side: no build clock there.
    expect(clockCause([1000, 1000 + 86400 * 30], [9000, 9001])).toBeUndefined();
  });
});

describe('modes and owners', () => {
  it('umask: every differing mode differs by group/other write bits the same way', () => {
    expect(umaskCause([{ a: 0o644, b: 0o664 }, { a: 0o755, b: 0o775 }], [0o644, 0o755], [0o664, 0o775])).toMatch(/umask \(022 vs 002/);
    expect(umaskCause([{ a: 0o644, b: 0o600 }], [0o644], [0o600])).toBeUndefined();
    expect(umaskCause([{ a: 0o644, b: 0o664 }, { a: 0o775, b: 0o755 }], [0o644, 0o775], [0o664, 0o755])).toBeUndefined();
  });
  it('owners: a sandbox, the building user, or nothing said', () => {
    expect(ownerCause(['0/0'], ['65534/65534'], 'x')).toMatch(/^B has members owned by uid\/gid 65534/);
    expect(ownerCause(['0/0', '0/0'], ['1000/1000', '1000/1000'], 'hint')).toMatch(/the user each build ran as \(hint\)/);
    expect(ownerCause(['0/0', '5/5'], ['1000/1000', '7/7'], 'hint')).toBeUndefined();
  });
  it('build paths: the prefixes in front of a common tail', () => {
    expect(pathPrefixes('/tmp/a/src/m.py', '/tmp/b/other/src/m.py')).toEqual({ a: '/tmp/a', b: '/tmp/b/other' });
    expect(pathPrefixes('/build-a', '/other/build-b')).toEqual({ a: '/build-a', b: '/other/build-b' });
    expect(pathPrefixes('/x/m.py', '/x/m.py')).toBeUndefined();
  });
});

describe('grouping: each field once, nothing equal listed', () => {
  const m = (name: string, mtime: number, uid: number, data?: string): MemberInfo => ({ name, type: 'file', meta: { mtime, uid }, ...(data ? { data: new BufferSource(Buffer.from(data)) } : {}) });
  const fields: FieldSpec[] = [
    { kind: 'timestamp', label: 'mtime', value: (x) => x.meta.mtime, range: true },
    { kind: 'owner', label: 'uid', value: (x) => x.meta.uid },
  ];
  it('one record per field with a count and both values; equal fields and data give none', async () => {
    const a = [m('a', 1, 0, 'x'), m('b', 1, 0, 'y'), m('c', 1, 0, 'z')];
    const b = [m('a', 2, 0, 'x'), m('b', 2, 0, 'y'), m('c', 2, 0, 'z')];
    const c = await compareMemberLists(a, b, { fields });
    expect(c.differences).toEqual([{ kind: 'timestamp', field: 'mtime', count: 3, a: '1', b: '2' }]);
    expect(c.members).toEqual([]);
    expect(describeDifference(c.differences[0]!)).toBe('mtime 1 vs 2 (x3)');
  });
  it('one member: named; several values: a range; data that differ: a member pair', async () => {
    const c = await compareMemberLists([m('a', 1, 0, 'x'), m('b', 5, 0), m('c', 9, 0)], [m('a', 1, 7, 'X'), m('b', 6, 0), m('c', 10, 0)], { fields });
    expect(c.differences).toContainEqual({ kind: 'owner', field: 'uid', member: 'a', a: '0', b: '7' });
    expect(c.differences).toContainEqual({ kind: 'timestamp', field: 'mtime', count: 2, a: '5..9', b: '6..10', note: 'e.g. b' });
    expect(c.members!.map((p) => p.name)).toEqual(['a']);
  });
});
