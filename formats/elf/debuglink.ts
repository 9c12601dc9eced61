// .gnu_debuglink (GDB manual, "Debugging Information in Separate Files"): the debug file's
// name, a NUL, zero padding to a multiple of 4, then the CRC-32 of the whole debug file in the
// target byte order. GDB ignores a debug file whose CRC differs. When the debug file is in the
// tree being normalized, its bytes change too, so the binary must carry the CRC of the
// normalized debug file. That CRC is computed here by normalizing the debug file's bytes with
// the same options (normalizing is idempotent, so it does not matter whether the tree walk
// has already rewritten the file on disk): the binary's output then depends on the pair alone.
import { crc32, crcOf } from '../crc32.js';
import { BufferSource } from '../../src/io.js';
import type { Change, Context } from '../../src/types.js';
import { Bin } from './elf.js';

export interface DebugLink {
  readonly name: string;
  /** Offset of the CRC within the section. */
  readonly crcOffset: number;
  readonly crc: number;
}

export function parseDebugLink(data: Uint8Array, le: boolean): DebugLink | undefined {
  const nul = data.indexOf(0);
  if (nul <= 0) return undefined;
  const crcOffset = (nul + 4) & ~3;
  if (crcOffset + 4 !== data.length) return undefined;
  const name = Buffer.from(data.buffer, data.byteOffset, nul).toString('utf8');
  return { name, crcOffset, crc: new Bin(data, le).u32(crcOffset) };
}

/**
 * The section's new bytes when the debug file it names is in the tree and normalizing that
 * file changes its CRC; undefined when nothing is to change (or nothing can be known).
 */
export async function updateDebugLink(data: Uint8Array, le: boolean, ctx: Context, changes: Change[]): Promise<Uint8Array | undefined> {
  const link = parseDebugLink(data, le);
  if (!link || !ctx.sibling) return undefined;
  // GDB looks beside the binary, then in .debug/ beside it. A name with a directory in it is
  // not a debuglink GDB would follow that way: left alone.
  if (link.name.includes('/') || link.name === '.' || link.name === '..') return undefined;
  let found: { rel: string; bytes: Uint8Array } | undefined;
  let before: number;
  let after: number;
  try {
    for (const rel of [link.name, `.debug/${link.name}`]) {
      const bytes = await ctx.sibling(rel);
      if (bytes) {
        found = { rel, bytes };
        break;
      }
    }
    if (!found) return undefined;
    before = crc32(found.bytes) >>> 0;
    const r = await ctx.normalizeMember(link.name, new BufferSource(found.bytes));
    after = r.changed ? (await crcOf(r.output)) >>> 0 : before;
  } catch (e) {
    // A debug file that cannot be read (too large to hold, gone): the binary is still normalized.
    ctx.notice(`.gnu_debuglink: ${found?.rel ?? link.name} could not be checked (${(e as Error).message}); CRC kept`);
    return undefined;
  }
  if (link.crc === after) return undefined;
  if (link.crc !== before) {
    ctx.notice(`.gnu_debuglink: the CRC matches neither ${found.rel} nor its normalized form; kept`);
    return undefined;
  }
  const out = Uint8Array.from(data);
  new Bin(out, le).setU32(link.crcOffset, after);
  changes.push({ kind: 'metadata', what: `.gnu_debuglink CRC set to that of the normalized ${found.rel}` });
  return out;
}
