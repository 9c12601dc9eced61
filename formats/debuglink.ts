// .gnu_debuglink (GDB manual, "Debugging Information in Separate Files"), shared by ELF and PE:
// the debug file's name, a NUL, zero padding to a multiple of 4, then the CRC-32 of the whole
// debug file in the target byte order. GDB looks for the file beside the binary, then in .debug/
// beside it, and ignores one whose CRC differs. When the debug file is in the tree being
// normalized its bytes change too, so the binary must carry the CRC of the NORMALIZED debug file.
//
// The rule (docs/DESIGN.md, ".gnu_debuglink"), a pure function of the binary's bytes and the
// debug file's bytes as detnorm normalizes them, so that the walk order, the worker count and
// whether the debug file on disk was already rewritten make no difference:
// 1. Candidates, in GDB's order: NAME beside the binary, then .debug/NAME (a NAME with a '/' or
//    that is '.' or '..' is left alone). Each is normalized in memory with the same options (the
//    file on disk may be the input or already the output: normalizing is idempotent, so both
//    give the same bytes N).
// 2. The first candidate whose N is the binary's debug file by the format's pairing test
//    (a test on N alone that normalizing cannot change: the loaded sections' names, addresses
//    and sizes, and for ELF the contents it keeps of them, the build-id note among them) is the
//    debug file; the CRC becomes CRC-32(N).
// 3. No candidate passes: the CRC is kept, with a notice. No candidate at all: kept, silently.
// Normalizing twice is a no-op: the second time the CRC already is CRC-32(N).
import { readAll, BufferSource } from '../src/io.js';
import type { Change, Context } from '../src/types.js';
import { crc32 } from './crc32.js';

export interface DebugLink {
  readonly name: string;
  /** Offset of the CRC within the section. */
  readonly crcOffset: number;
  readonly crc: number;
}

/** The section's fields, or undefined when it is not a well-formed debuglink. */
export function parseDebugLink(data: Uint8Array, le: boolean): DebugLink | undefined {
  const nul = data.indexOf(0);
  if (nul <= 0) return undefined;
  const crcOffset = (nul + 4) & ~3;
  if (crcOffset + 4 !== data.length) return undefined;
  const name = Buffer.from(data.buffer, data.byteOffset, nul).toString('utf8');
  return { name, crcOffset, crc: new DataView(data.buffer, data.byteOffset, data.length).getUint32(crcOffset, le) };
}

/**
 * Why `debug` (a debug file as detnorm normalizes it) is not the binary's own debug file;
 * undefined when it is. Must look only at what normalizing leaves alone.
 */
export type PairCheck = (debug: Uint8Array) => string | undefined;

/** The debug file names GDB tries for a link name, or none for a name it would not follow so. */
export function candidates(name: string): string[] {
  if (name.includes('/') || name.includes('\\') || name === '.' || name === '..') return [];
  return [name, `.debug/${name}`];
}

/**
 * The section's new bytes when the debug file it names is in the tree and its CRC is not that
 * of the debug file as normalized; undefined when nothing is to change (or nothing can be known).
 */
export async function updateDebugLink(data: Uint8Array, le: boolean, ctx: Context, changes: Change[], isPair: PairCheck): Promise<Uint8Array | undefined> {
  const link = parseDebugLink(data, le);
  if (!link || !ctx.sibling) return undefined;
  const rejected: string[] = [];
  for (const rel of candidates(link.name)) {
    let normalized: Uint8Array;
    try {
      const bytes = await ctx.sibling(rel);
      if (!bytes) continue;
      const r = await ctx.normalizeMember(link.name, new BufferSource(bytes));
      if (r.changed) {
        normalized = await readAll(r.output);
        r.output.release?.();
      } else normalized = bytes;
    } catch (e) {
      // A debug file that cannot be read (too large to hold, gone): the binary is still normalized.
      ctx.notice(`.gnu_debuglink: ${rel} could not be checked (${(e as Error).message}); CRC kept`);
      return undefined;
    }
    const crc = crc32(normalized) >>> 0;
    if (crc === link.crc) return undefined;
    const why = isPair(normalized);
    if (why !== undefined) {
      rejected.push(`${rel}: ${why}`);
      continue;
    }
    const out = Uint8Array.from(data);
    new DataView(out.buffer).setUint32(link.crcOffset, crc, le);
    changes.push({ kind: 'metadata', what: `.gnu_debuglink CRC set to that of the normalized ${rel}` });
    return out;
  }
  if (rejected.length > 0) ctx.notice(`.gnu_debuglink: the CRC does not match the normalized debug file, which is not this binary's (${rejected.join('; ')}); CRC kept`);
  return undefined;
}
