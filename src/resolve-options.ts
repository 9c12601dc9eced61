// The library's options (NormalizeOptions) and their validation into the engine's Options: shared
// by the library (src/api.ts) and the command line, whose filter fast path (src/filter-main.ts)
// resolves options with this same code without loading the library's tree and pool modules.
import { HANDLERS } from '../formats/index.js';
import { MAX_TIMESTAMP, applyFormatsSpec, defaultOptions, parseMapPath } from './options.js';
import { DEFAULT_LIMITS, type Limits, type Options, type PathMap } from './types.js';

/** Options of the library API. Everything is explicit: the library reads no environment variable. */
export interface NormalizeOptions {
  /** T in seconds since the epoch (the CLI takes it from -T or SOURCE_DATE_EPOCH). */
  timestamp?: number;
  /** Only times later than T become T. */
  clamp?: boolean;
  /** Build-path maps: ["OLD=NEW", ...], [{from, to}, ...] or {OLD: NEW}. */
  mapPaths?: readonly string[] | readonly PathMap[] | Readonly<Record<string, string>>;
  /** ar: sort members by name. */
  sortArMembers?: boolean;
  /** pyc: convert timestamp pycs whose source is present into hash-based ones. */
  pycInvalidation?: 'checked-hash' | 'unchecked-hash';
  /** pyc: also sort set/frozenset items of Python < 3.11 pycs (their order follows PYTHONHASHSEED). */
  pycSortSets?: boolean;
  /** PE images: stamps derived from the content ('content', default, as lld-link /Brepro) or T ('T') (CLI --pe-timestamp). */
  peTimestamp?: 'content' | 'T';
  /** RPM packages: the BUILDHOST to write (default "reproducible"; CLI --rpm-buildhost). */
  rpmBuildHost?: string;
  /** Container image layers: keep numeric owners ('keep', default) or set them to 0 (CLI --oci-owners). */
  ociOwners?: 'keep' | 'zero';
  /** Container images: leave the first N layers of each image byte-identical (CLI --keep-layers). */
  keepLayers?: number;
  /** Container images: also keep the layers with these digests (`sha256:HEX` or `HEX`). */
  keepLayerDigests?: readonly string[];
  /** Handler names to enable, or a "+x,-y" spec; default all. */
  formats?: readonly string[] | string;
  /**
   * Per-file deadline in ms (CLI --deadline; default limits.deadlineMs, 10 minutes; 0: none).
   * A file not done by then is an error, left untouched; see README "Safety" for the guarantee.
   */
  deadlineMs?: number;
  limits?: Partial<Limits>;
}

function mapPathsOf(m: NormalizeOptions['mapPaths']): PathMap[] {
  if (!m) return [];
  const pairs = Array.isArray(m)
    ? m.map((x) => (typeof x === 'string' ? parseMapPath(x) : { from: x.from, to: x.to }))
    : Object.entries(m as Record<string, string>).map(([from, to]) => ({ from, to }));
  for (const p of pairs) {
    if (!p.from || !p.to) throw new TypeError(`mapPaths: ${JSON.stringify(p)}: OLD and NEW must both be non-empty paths`);
  }
  return pairs;
}

/** `sha256:HEX` or `HEX` (64 lower-case hex digits) -> HEX; anything else is a TypeError. */
function layerDigest(d: string): string {
  const m = /^(?:sha256:)?([0-9a-f]{64})$/.exec(d);
  if (!m) throw new TypeError(`a layer digest is sha256:<64 hex digits>, got ${JSON.stringify(d)}`);
  return m[1]!;
}

/** Validate and complete library options. Throws TypeError on a bad value. */
export function resolveOptions(o: NormalizeOptions = {}): Options {
  if (o.timestamp !== undefined && !(Number.isSafeInteger(o.timestamp) && o.timestamp >= 0)) {
    throw new TypeError(`timestamp must be a non-negative integer number of seconds, got ${o.timestamp}`);
  }
  if (o.clamp && o.timestamp === undefined) throw new TypeError('clamp needs a timestamp');
  if (o.ociOwners !== undefined && o.ociOwners !== 'keep' && o.ociOwners !== 'zero') throw new TypeError(`ociOwners must be 'keep' or 'zero', got ${o.ociOwners}`);
  if (o.peTimestamp !== undefined && o.peTimestamp !== 'content' && o.peTimestamp !== 'T') throw new TypeError(`peTimestamp must be 'content' or 'T', got ${o.peTimestamp}`);
  if (o.rpmBuildHost !== undefined && (typeof o.rpmBuildHost !== 'string' || o.rpmBuildHost.includes('\0'))) throw new TypeError('rpmBuildHost must be a string without NUL bytes');
  if (o.keepLayers !== undefined && !(Number.isSafeInteger(o.keepLayers) && o.keepLayers >= 0)) throw new TypeError(`keepLayers must be a non-negative integer, got ${o.keepLayers}`);
  if (o.timestamp !== undefined && o.timestamp > MAX_TIMESTAMP) {
    throw new TypeError(
      `timestamp ${o.timestamp} is after 2106-02-07 06:28:15 UTC (${MAX_TIMESTAMP}), the latest time every format can store (cpio and pyc hold 32-bit times, zip DOS dates end in 2107)`,
    );
  }
  const deadlineMs = o.deadlineMs ?? o.limits?.deadlineMs;
  if (deadlineMs !== undefined && !(Number.isSafeInteger(deadlineMs) && deadlineMs >= 0)) throw new TypeError(`deadlineMs must be a non-negative integer, got ${deadlineMs}`);
  const all = HANDLERS.map((h) => h.name);
  const formats =
    o.formats === undefined ? all : typeof o.formats === 'string' ? applyFormatsSpec(o.formats, all) : applyFormatsSpec(o.formats.join(','), all);
  return defaultOptions({
    ...(o.timestamp !== undefined ? { timestamp: o.timestamp } : {}),
    clamp: Boolean(o.clamp),
    mapPaths: mapPathsOf(o.mapPaths),
    sortArMembers: Boolean(o.sortArMembers),
    ...(o.pycInvalidation ? { pycInvalidation: o.pycInvalidation } : {}),
    ...(o.pycSortSets ? { pycSortSets: true } : {}),
    ...(o.rpmBuildHost !== undefined ? { rpmBuildHost: o.rpmBuildHost } : {}),
    ...(o.ociOwners ? { ociOwners: o.ociOwners } : {}),
    ...(o.peTimestamp ? { peTimestamp: o.peTimestamp } : {}),
    ...(o.keepLayers ? { keepLayers: o.keepLayers } : {}),
    ...(o.keepLayerDigests?.length ? { keepLayerDigests: o.keepLayerDigests.map(layerDigest) } : {}),
    formats,
    limits: { ...DEFAULT_LIMITS, ...o.limits, ...(deadlineMs !== undefined ? { deadlineMs } : {}) },
  });
}
