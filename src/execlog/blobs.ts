// Where the bytes of a logged output can be found again: a --disk_cache directory (content
// addressed: cas/<first 2 hex digits>/<hash>, or cas/<hash> in older Bazels) or an output
// base (<output_base>/execroot/<workspace>/<path>; a workspace directory or an execroot given
// instead work too, through its bazel-out). A file found by path is used only if its digest is
// still the one the log records (a later build may have replaced it).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface BlobStore {
  /** The bytes with this digest, or undefined. */
  find(path: string, hash: string, size: number): Uint8Array | undefined;
  /** For messages: where it looks. */
  readonly where: string;
}

/** Blobs larger than this are not compared (they would be held in memory twice). */
export const MAX_BLOB = 1 << 30;

const ALGORITHM: Record<number, string> = { 64: 'sha256', 40: 'sha1', 32: 'md5', 128: 'sha512' };

function digestOk(bytes: Uint8Array, hash: string): boolean {
  const alg = ALGORITHM[hash.length];
  // A digest function we cannot compute (BLAKE3): trust a content-addressed store only.
  return alg !== undefined && createHash(alg).update(bytes).digest('hex') === hash;
}

function readIfSize(path: string, size: number): Uint8Array | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > MAX_BLOB || (size > 0 && st.size !== size)) return undefined;
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

export function diskCache(dir: string): BlobStore {
  if (!existsSync(join(dir, 'cas'))) throw new Error(`${dir}: not a Bazel disk cache (no cas/ directory)`);
  return {
    where: dir,
    find(_path, hash, size) {
      if (!/^[0-9a-f]{16,128}$/.test(hash)) return undefined;
      for (const p of [join(dir, 'cas', hash.slice(0, 2), hash), join(dir, 'cas', hash)]) {
        const b = readIfSize(p, size);
        // Content-addressed: the name is the digest. Checked anyway when we can.
        if (b && (ALGORITHM[hash.length] === undefined || digestOk(b, hash))) return b;
      }
      return undefined;
    },
  };
}

export function outputBase(dir: string): BlobStore {
  const roots: string[] = [];
  const execroot = join(dir, 'execroot');
  if (existsSync(execroot)) for (const ws of readdirSync(execroot)) roots.push(join(execroot, ws));
  roots.push(dir);
  return {
    where: dir,
    find(path, hash, size) {
      for (const r of roots) {
        const b = readIfSize(join(r, path), size);
        if (b && digestOk(b, hash)) return b;
      }
      return undefined;
    },
  };
}
