// Content digests as the OCI image spec (descriptor.md, "Digests") defines them:
// "<algorithm>:<encoded>", here sha256 with 64 lower-case hex digits (the only algorithm the
// tools in use write, and the one the canonical output uses). Hashing reads a Source in fixed
// CHUNK pieces, so memory stays bounded and the result never depends on I/O sizes.
import { createHash } from 'node:crypto';
import { FormatError, type Source } from '../../src/types.js';

export const SHA256_RE = /^sha256:([0-9a-f]{64})$/;

/** The hex of a "sha256:..." digest; other algorithms are an unsupported-input FormatError. */
export function sha256Hex(digest: string, where: string): string {
  const m = SHA256_RE.exec(digest);
  if (m) return m[1]!;
  if (/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) {
    throw new FormatError(`${where}: digest algorithm of "${digest.slice(0, 80)}" is not supported (only sha256)`);
  }
  throw new FormatError(`${where}: malformed digest "${digest.slice(0, 80)}"`);
}

export { hashSource } from '../../src/io.js';

export function hashBytes(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

/** The path of a blob inside an image layout (image-layout.md: blobs/<alg>/<encoded>). */
export function blobPath(hex: string): string {
  return `blobs/sha256/${hex}`;
}
