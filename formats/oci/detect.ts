// What detection needs of the oci handler, apart from its code (formats/lazy.ts).
import type { Probe } from '../../src/types.js';
import type { Detection } from '../lazy.js';
import { BLOCK, checksumOk, cString, F, parseNumeric } from '../tar/header.js';
import { looksLikeTar } from '../tar/detect.js';

const IMAGE_MARKERS = new Set(['manifest.json', 'repositories', 'oci-layout', 'index.json']);
const DIGEST_MEMBER = /^[0-9a-f]{64}(?:\.json|\.tar|\/json|\/VERSION|\/layer\.tar)$/;

export function stripDot(name: string): string {
  let s = name;
  while (s.startsWith('./')) s = s.slice(2);
  return s;
}

/** False when manifest.json's data is in the window and is not a JSON array (docker-save's shape). */
function manifestShape(bytes: Uint8Array, at: number): boolean {
  let size: number;
  try {
    size = parseNumeric(bytes.subarray(at, at + BLOCK), F.size, 'size', at);
  } catch {
    return false;
  }
  const start = at + BLOCK;
  if (start + size > bytes.length) return true; // not visible: the name decides
  const text = Buffer.from(bytes.subarray(start, start + size)).toString('latin1').trimStart();
  return text.startsWith('[') && text.includes('"Config"');
}

/** Member names whose headers lie in a window (block-aligned relative to the archive). */
function namesIn(bytes: Uint8Array, firstBlock: number, out: Set<string>): void {
  for (let at = firstBlock; at + BLOCK <= bytes.length; at += BLOCK) {
    const block = bytes.subarray(at, at + BLOCK);
    if (block[0] === 0 || !checksumOk(block)) continue;
    const t = block[156];
    if (t !== 0x30 && t !== 0 && t !== 0x32 && t !== 0x35) continue;
    const name = stripDot(cString(block, F.name));
    if (name === 'manifest.json' && !manifestShape(bytes, at)) continue;
    if (IMAGE_MARKERS.has(name) || DIGEST_MEMBER.test(name) || name.startsWith('blobs/sha256/')) out.add(name);
  }
}

/** True when the probe shows an image archive: a tar with image metadata among the members it can see. */
export function looksLikeImageArchive(probe: Probe): boolean {
  if (!looksLikeTar(probe.head)) return false;
  const names = new Set<string>();
  namesIn(probe.head, 0, names);
  // The tail starts at size - tail.length; headers sit at multiples of 512 from the start.
  const tailStart = probe.size - probe.tail.length;
  namesIn(probe.tail, (BLOCK - (tailStart % BLOCK)) % BLOCK, names);
  if (names.has('oci-layout') && names.has('index.json')) return true;
  if (!names.has('manifest.json')) return false;
  return names.has('repositories') || [...names].some((n) => DIGEST_MEMBER.test(n));
}

export const isOciLayout = (names: readonly string[]): boolean => names.includes('oci-layout') && names.includes('index.json');

export const ociDetection: Detection = {
  name: 'oci',
  description: 'container images: docker save / podman save and OCI-archive tars, and OCI image layout directories (layers, configs, manifests, digests)',
  extensions: [],
  detect: looksLikeImageArchive,
  detectDirectory: isOciLayout,
};
