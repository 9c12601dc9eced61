// Reads an ar archive's member list (ar(5); GNU/SysV and BSD naming): every header, where
// each member's data lies, and the special members (symbol tables, GNU long-name table).
// Member data is never loaded here; only the symbol and long-name tables are, within limits.
import { SequentialReader } from '../../src/io.js';
import { FormatError, type Source } from '../../src/types.js';
import { HEADER_SIZE, decodeHeader, type ArHeader } from './header.js';

export type EntryKind =
  /** GNU `/` symbol table. */
  | 'gnu-symtab'
  /** GNU `/SYM64/` symbol table. */
  | 'gnu-symtab64'
  /** GNU `//` long-name table. */
  | 'gnu-longnames'
  /** Microsoft's second linker member (a second `/` right after the first; PE/COFF spec, "Archive (Library) File Format"). */
  | 'ms-symtab'
  /** BSD `__.SYMDEF` family. */
  | 'bsd-symtab'
  | 'member';

export interface Entry {
  readonly kind: EntryKind;
  readonly headerOffset: number;
  readonly header: ArHeader;
  /** Logical member name as latin1 (one char per byte); for special members their name. */
  readonly name: string;
  /** How the name is stored: `gnu` (name/ or /N), `bsd-long` (#1/N), `plain` (space-padded). */
  readonly nameStyle: 'gnu' | 'bsd-long' | 'plain' | 'special';
  /** Bytes of BSD `#1/N` name stored at the start of the data (0 otherwise). */
  readonly bsdNameLength: number;
  /** File offset and size of the member's contents (after a BSD embedded name). */
  readonly dataOffset: number;
  readonly dataSize: number;
}

export interface Archive {
  readonly entries: readonly Entry[];
  /** 'gnu' when any GNU convention is present, 'bsd' for BSD ones, 'plain' for neither. */
  readonly style: 'gnu' | 'bsd' | 'plain';
  /** Microsoft's format (link.exe, lib.exe): a second linker member; long names end with NUL. */
  readonly msvc: boolean;
}

/** Thrown as the reason when the archive is a variant we leave alone on purpose. */
export class Unsupported {
  constructor(readonly reason: string) {}
}

const LONG_REF = /^\/(\d+)$/;
const BSD_LONG = /^#1\/(\d+)$/;
const BSD_SYMDEF = /^__\.SYMDEF(_64)?( SORTED)?$/;

function latin1(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** A name from the GNU long-name table at `offset` (entries end with "/\n"; "\0" also accepted). */
export function longName(table: Uint8Array, offset: number, at: number): string {
  if (offset >= table.length) throw new FormatError(`member header at offset ${at} refers to long name /${offset} beyond the ${table.length}-byte name table`);
  let end = offset;
  while (end < table.length && table[end] !== 0x0a && table[end] !== 0) end++;
  let name = latin1(table.subarray(offset, end));
  if (name.endsWith('/')) name = name.slice(0, -1);
  if (name === '') throw new FormatError(`member header at offset ${at} refers to an empty long name /${offset}`);
  return name;
}

/** Parse the member list. `maxTable` bounds the tables loaded in memory. */
export async function parseArchive(input: Source, maxTable: number): Promise<Archive | Unsupported> {
  const r = new SequentialReader(input, 8);
  const entries: Entry[] = [];
  let longnames: Uint8Array | undefined;
  let gnu = false;
  let bsd = false;
  while (r.remaining > 0) {
    const at = r.position;
    if (r.remaining < HEADER_SIZE) {
      throw new FormatError(`truncated ar member header at offset ${at}: ${r.remaining} of ${HEADER_SIZE} bytes`);
    }
    const header = decodeHeader(await r.readExact(HEADER_SIZE, 'member header'), at);
    const trimmed = header.rawName.replace(/ +$/, '');
    if (header.size > r.remaining) {
      throw new FormatError(`member "${trimmed}" at offset ${at} declares ${header.size} bytes, but only ${r.remaining} remain`);
    }
    const dataStart = r.position;
    let kind: EntryKind = 'member';
    let name = trimmed;
    let nameStyle: Entry['nameStyle'] = 'plain';
    let bsdNameLength = 0;
    let m: RegExpExecArray | null;
    if (trimmed === '/' || trimmed === '/SYM64/') {
      const second = trimmed === '/' && entries.length === 1 && entries[0]!.kind === 'gnu-symtab';
      if (!second && entries.some((e) => e.kind === 'gnu-symtab' || e.kind === 'gnu-symtab64' || e.kind === 'ms-symtab')) {
        throw new FormatError(`another symbol table at offset ${at}`);
      }
      if (header.size > maxTable) throw new FormatError(`symbol table of ${header.size} bytes is over the limit of ${maxTable}`);
      kind = second ? 'ms-symtab' : trimmed === '/' ? 'gnu-symtab' : 'gnu-symtab64';
      nameStyle = 'special';
      gnu = true;
    } else if (trimmed === '//') {
      if (longnames) throw new FormatError(`second long-name table at offset ${at}`);
      if (header.size > maxTable) throw new FormatError(`long-name table of ${header.size} bytes is over the limit of ${maxTable}`);
      longnames = Uint8Array.from(await input.read(dataStart, header.size));
      kind = 'gnu-longnames';
      nameStyle = 'special';
      gnu = true;
    } else if ((m = LONG_REF.exec(trimmed))) {
      if (!longnames) throw new FormatError(`member header at offset ${at} refers to long name ${trimmed} but there is no long-name table before it`);
      name = longName(longnames, Number(m[1]), at);
      nameStyle = 'gnu';
      gnu = true;
    } else if ((m = BSD_LONG.exec(trimmed))) {
      bsdNameLength = Number(m[1]);
      if (bsdNameLength > header.size) throw new FormatError(`member header at offset ${at}: BSD name length ${bsdNameLength} exceeds member size ${header.size}`);
      const raw = await input.read(dataStart, bsdNameLength);
      const nul = raw.indexOf(0);
      name = latin1(nul < 0 ? raw : raw.subarray(0, nul));
      nameStyle = 'bsd-long';
      bsd = true;
      if (BSD_SYMDEF.test(name)) kind = 'bsd-symtab';
    } else if (BSD_SYMDEF.test(trimmed)) {
      kind = 'bsd-symtab';
      bsd = true;
    } else if (trimmed.endsWith('/') && trimmed.length > 1) {
      name = trimmed.slice(0, -1);
      nameStyle = 'gnu';
      gnu = true;
    } else if (trimmed === '') {
      throw new FormatError(`member header at offset ${at} has an empty name`);
    }
    if (kind === 'bsd-symtab' && header.size - bsdNameLength > maxTable) {
      throw new FormatError(`symbol table of ${header.size} bytes is over the limit of ${maxTable}`);
    }
    entries.push({
      kind,
      headerOffset: at,
      header,
      name,
      nameStyle,
      bsdNameLength,
      dataOffset: dataStart + bsdNameLength,
      dataSize: header.size - bsdNameLength,
    });
    r.skip(header.size, `member "${name}"`);
    // Data is padded to an even offset; a missing pad after the last member is tolerated.
    if (r.position % 2 === 1 && r.remaining > 0) r.skip(1);
  }
  if (gnu && bsd) throw new FormatError('archive mixes GNU and BSD ar naming conventions');
  return { entries, style: gnu ? 'gnu' : bsd ? 'bsd' : 'plain', msvc: entries.some((e) => e.kind === 'ms-symtab') };
}
