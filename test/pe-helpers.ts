// Helpers for the PE/COFF tests: Python's pefile (Debian's python3-pefile lives with
// /usr/bin/python3), wine with a private prefix, and Microsoft-format import libraries made
// from GNU-format ones (LLVM 14's tools write only the GNU format).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HEADER_SIZE, decodeHeader } from '../formats/ar/header.js';

/** The python3 that has Debian's python3-pefile (in CI a missing module fails the test run). */
export function pefilePython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(py, ['-c', 'import pefile']).status === 0) return py;
  }
  if (process.env.CI) throw new Error('python3-pefile is missing in CI (.ci/run must install it)');
  return undefined;
}

/**
 * pefile's view of images: warnings, CheckSum validity, and the file ranges where stamps and
 * debug identity live (export and resource directory stamps, debug entries, CodeView records,
 * load configuration), found by pefile, not by detnorm.
 */
export const PEFILE_SCRIPT = String.raw`
import json, sys, pefile
out = []
for f in sys.argv[1:]:
    pe = pefile.PE(f)
    ranges = []
    def field(s, name):
        ranges.append([s.get_field_absolute_offset(name), 4])
    field(pe.FILE_HEADER, 'TimeDateStamp')
    ranges.append([pe.OPTIONAL_HEADER.get_field_absolute_offset('CheckSum'), 4])
    if hasattr(pe, 'DIRECTORY_ENTRY_EXPORT'):
        field(pe.DIRECTORY_ENTRY_EXPORT.struct, 'TimeDateStamp')
    def walk(d):
        field(d.struct, 'TimeDateStamp')
        for e in d.entries:
            if hasattr(e, 'directory'):
                walk(e.directory)
    if hasattr(pe, 'DIRECTORY_ENTRY_RESOURCE'):
        walk(pe.DIRECTORY_ENTRY_RESOURCE)
    for d in getattr(pe, 'DIRECTORY_ENTRY_DEBUG', []):
        field(d.struct, 'TimeDateStamp')
        if d.struct.Type == 2:
            ranges.append([d.struct.PointerToRawData, d.struct.SizeOfData])
    if hasattr(pe, 'DIRECTORY_ENTRY_LOAD_CONFIG'):
        field(pe.DIRECTORY_ENTRY_LOAD_CONFIG.struct, 'TimeDateStamp')
    cs = pe.OPTIONAL_HEADER.CheckSum
    out.append({
        'file': f,
        'warnings': pe.get_warnings(),
        'checksumOk': cs == 0 or cs == pe.generate_checksum(),
        'stamp': pe.FILE_HEADER.TimeDateStamp,
        'ranges': ranges,
        'sections': [{'name': s.Name.rstrip(b'\0').decode('latin1'), 'va': s.VirtualAddress, 'vsize': s.Misc_VirtualSize, 'ptr': s.PointerToRawData, 'size': s.SizeOfRawData, 'chars': s.Characteristics} for s in pe.sections],
        'debug': [{'type': d.struct.Type, 'stamp': d.struct.TimeDateStamp} for d in getattr(pe, 'DIRECTORY_ENTRY_DEBUG', [])],
    })
print(json.dumps(out))
`;

export interface PefileView {
  readonly file: string;
  readonly warnings: string[];
  readonly checksumOk: boolean;
  readonly stamp: number;
  readonly ranges: Array<[number, number]>;
  readonly sections: Array<{ name: string; va: number; vsize: number; ptr: number; size: number; chars: number }>;
  readonly debug: Array<{ type: number; stamp: number }>;
}

export function pefileView(py: string, files: string[]): PefileView[] {
  const r = spawnSync(py, ['-c', PEFILE_SCRIPT, ...files], { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`pefile failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as PefileView[];
}

/** A wine prefix of its own (created on first use: slow) and a runner. */
export function wineRunner(root: string): (exe: string, cwd: string) => { status: number | null; stdout: string; stderr: string } {
  const prefix = join(root, 'wineprefix');
  if (!existsSync(prefix)) mkdirSync(prefix);
  return (exe, cwd) => {
    const r = spawnSync('wine', [exe], { cwd, env: { ...process.env, WINEPREFIX: prefix, WINEDEBUG: '-all', DISPLAY: '' }, timeout: 300_000 });
    return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
}

function header(name: string, size: number, mtime: number, mode: string): Buffer {
  const f = (s: string, n: number) => s.padEnd(n, ' ').slice(0, n);
  return Buffer.from(f(name, 16) + f(String(mtime), 12) + f('', 6) + f('', 6) + f(mode, 8) + f(String(size), 10) + '`\n', 'latin1');
}

interface ArMember {
  readonly name: string;
  readonly data: Buffer;
  readonly symbols: string[];
}

/** Members of a GNU-format archive with the symbols its `/` table gives each. */
export function readGnuArchive(ar: Buffer): ArMember[] {
  const members: Array<{ at: number; name: string; data: Buffer; symbols: string[] }> = [];
  let pos = 8;
  let symtab: Buffer | undefined;
  let longnames: Buffer | undefined;
  while (pos + HEADER_SIZE <= ar.length) {
    const h = decodeHeader(ar.subarray(pos, pos + HEADER_SIZE), pos);
    const data = ar.subarray(pos + HEADER_SIZE, pos + HEADER_SIZE + h.size);
    const raw = h.rawName.trimEnd();
    if (raw === '/') symtab = data;
    else if (raw === '//') longnames = data;
    else {
      let name = raw.endsWith('/') ? raw.slice(0, -1) : raw;
      const m = /^\/(\d+)$/.exec(raw);
      if (m && longnames) {
        const start = Number(m[1]);
        let end = start;
        while (end < longnames.length && longnames[end] !== 0x0a && longnames[end] !== 0) end++;
        name = longnames.toString('latin1', start, end).replace(/\/$/, '');
      }
      members.push({ at: pos, name, data: Buffer.from(data), symbols: [] });
    }
    pos += HEADER_SIZE + h.size + (h.size % 2);
  }
  if (symtab) {
    const n = symtab.readUInt32BE(0);
    let p = 4 + 4 * n;
    for (let i = 0; i < n; i++) {
      const off = symtab.readUInt32BE(4 + 4 * i);
      const end = symtab.indexOf(0, p);
      members.find((m) => m.at === off)!.symbols.push(symtab.toString('latin1', p, end));
      p = end + 1;
    }
  }
  return members;
}

/**
 * A Microsoft-format archive (PE/COFF spec, "Archive (Library) File Format") of `members`, as
 * lib.exe writes one: first linker member (big-endian offsets, one per symbol, in member order),
 * second linker member (little-endian, members' offsets and 1-based indices, names sorted),
 * a longnames member with NUL-terminated names, member headers with a time and mode 100666.
 */
export function msArchive(members: readonly ArMember[], mtime: number): Buffer {
  const symbols = members.flatMap((m, i) => m.symbols.map((s) => ({ s, i })));
  const sorted = [...symbols].sort((a, b) => (a.s < b.s ? -1 : a.s > b.s ? 1 : 0));
  const longParts: string[] = [];
  let longSize = 0;
  const names = members.map((m) => {
    if (m.name.length <= 15) return `${m.name}/`;
    const ref = `/${longSize}`;
    longParts.push(`${m.name}\0`);
    longSize += m.name.length + 1;
    return ref;
  });
  const longnames = Buffer.from(longParts.join(''), 'latin1');
  const pad = (n: number) => n + (n % 2);
  const firstSize = 4 + 4 * symbols.length + symbols.reduce((n, x) => n + x.s.length + 1, 0);
  const secondSize = 4 + 4 * members.length + 4 + 2 * symbols.length + symbols.reduce((n, x) => n + x.s.length + 1, 0);
  let at = 8 + HEADER_SIZE + pad(firstSize) + HEADER_SIZE + pad(secondSize) + (longnames.length > 0 ? HEADER_SIZE + pad(longnames.length) : 0);
  const offsets = members.map((m) => {
    const o = at;
    at += HEADER_SIZE + pad(m.data.length);
    return o;
  });
  const first = Buffer.alloc(firstSize);
  first.writeUInt32BE(symbols.length, 0);
  symbols.forEach((x, k) => first.writeUInt32BE(offsets[x.i]!, 4 + 4 * k));
  Buffer.from(symbols.map((x) => `${x.s}\0`).join(''), 'latin1').copy(first, 4 + 4 * symbols.length);
  const second = Buffer.alloc(secondSize);
  second.writeUInt32LE(members.length, 0);
  offsets.forEach((o, k) => second.writeUInt32LE(o, 4 + 4 * k));
  second.writeUInt32LE(symbols.length, 4 + 4 * members.length);
  sorted.forEach((x, k) => second.writeUInt16LE(x.i + 1, 8 + 4 * members.length + 2 * k));
  Buffer.from(sorted.map((x) => `${x.s}\0`).join(''), 'latin1').copy(second, 8 + 4 * members.length + 2 * symbols.length);
  const parts: Buffer[] = [Buffer.from('!<arch>\n', 'latin1')];
  const add = (h: Buffer, d: Buffer) => {
    parts.push(h, d);
    if (d.length % 2) parts.push(Buffer.from('\n'));
  };
  add(header('/', firstSize, mtime, '0'), first);
  add(header('/', secondSize, mtime, '0'), second);
  if (longnames.length > 0) add(header('//', longnames.length, 0, ''), longnames);
  members.forEach((m, k) => add(header(names[k]!, m.data.length, mtime + k, '100666'), m.data));
  return Buffer.concat(parts);
}

/** Check a second linker member against the first: every symbol names the member the first one names. */
export function checkMsLinkerMembers(ar: Buffer): { symbols: number; members: number } {
  let pos = 8;
  const tables: Buffer[] = [];
  const headers = new Set<number>();
  while (pos + HEADER_SIZE <= ar.length) {
    const h = decodeHeader(ar.subarray(pos, pos + HEADER_SIZE), pos);
    if (h.rawName.trimEnd() === '/') tables.push(ar.subarray(pos + HEADER_SIZE, pos + HEADER_SIZE + h.size));
    else if (h.rawName.trimEnd() !== '//') headers.add(pos);
    pos += HEADER_SIZE + h.size + (h.size % 2);
  }
  if (tables.length !== 2) throw new Error(`${tables.length} linker members`);
  const [first, second] = tables as [Buffer, Buffer];
  const n = first.readUInt32BE(0);
  const byName = new Map<string, number>();
  let p = 4 + 4 * n;
  for (let i = 0; i < n; i++) {
    const end = first.indexOf(0, p);
    byName.set(first.toString('latin1', p, end), first.readUInt32BE(4 + 4 * i));
    p = end + 1;
  }
  const m = second.readUInt32LE(0);
  const offsets: number[] = [];
  for (let i = 0; i < m; i++) offsets.push(second.readUInt32LE(4 + 4 * i));
  for (let i = 1; i < m; i++) if (offsets[i]! <= offsets[i - 1]!) throw new Error('second linker member offsets not ascending');
  for (const o of offsets) if (!headers.has(o)) throw new Error(`second linker member offset ${o} is not a member header`);
  const k = second.readUInt32LE(4 + 4 * m);
  let q = 8 + 4 * m + 2 * k;
  let prev = '';
  for (let i = 0; i < k; i++) {
    const end = second.indexOf(0, q);
    const name = second.toString('latin1', q, end);
    q = end + 1;
    if (name < prev) throw new Error('second linker member names not sorted');
    prev = name;
    const idx = second.readUInt16LE(8 + 4 * m + 2 * i);
    if (offsets[idx - 1] !== byName.get(name)) throw new Error(`symbol ${name}: second linker member says ${offsets[idx - 1]}, first says ${byName.get(name)}`);
  }
  return { symbols: k, members: m };
}
