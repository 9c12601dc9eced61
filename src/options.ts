// Options: defaults, and the --formats "+x,-y" syntax. Parsing of argv lives in cli.ts.
import { HANDLERS } from '../formats/index.js';
import { DEFAULT_LIMITS, type Options } from './types.js';

/**
 * The latest T every format can store: 2^32 - 1 seconds, 2106-02-07 06:28:15 UTC (cpio and pyc
 * hold 32-bit unsigned times; zip's DOS dates end in 2107). A later T is refused before
 * anything is touched, rather than clamped by some formats and refused by others.
 */
export const MAX_TIMESTAMP = 0xffffffff;

/** Options with every default: no T, no clamp, no path maps, every format on. */
export function defaultOptions(overrides: Partial<Options> = {}): Options {
  return {
    clamp: false,
    mapPaths: [],
    sortArMembers: false,
    formats: HANDLERS.map((h) => h.name),
    limits: DEFAULT_LIMITS,
    ...overrides,
  };
}

/**
 * Apply a --formats spec to the full list: "+x,-y" adds/removes from the defaults,
 * "x,y" (no signs) selects exactly those. Unknown names throw.
 */
export function applyFormatsSpec(spec: string, all: readonly string[]): string[] {
  const items = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new Error(`empty format selection ${JSON.stringify(spec)}: name formats to enable ("zip,tar") or changes to the defaults ("+x,-y")`);
  const signed = items.some((i) => i.startsWith('+') || i.startsWith('-'));
  let on = new Set(signed ? all : []);
  for (const item of items) {
    const sign = item[0] === '+' || item[0] === '-' ? item[0] : '+';
    const name = item.replace(/^[+-]/, '');
    if (!all.includes(name)) throw new Error(`unknown format "${name}" (known: ${all.join(', ')})`);
    if (sign === '+') on.add(name);
    else on.delete(name);
  }
  const selected = all.filter((n) => on.has(n));
  if (selected.length === 0) throw new Error(`format selection ${JSON.stringify(spec)} leaves no format enabled`);
  return selected;
}

/** Parse one `--map-path OLD=NEW` value. */
export function parseMapPath(spec: string): { from: string; to: string } {
  const eq = spec.indexOf('=');
  if (eq <= 0) throw new Error(`--map-path wants OLD=NEW, got "${spec}"`);
  const to = spec.slice(eq + 1);
  // An empty NEW would turn "/x/a.c" into "/a.c" and "/x" into "" (an empty tar link target).
  if (to === '') throw new Error(`--map-path "${spec}": NEW is empty; map to a path such as /build or .`);
  return { from: spec.slice(0, eq), to };
}

/**
 * Options from a JSON object as stored next to corpus cases (`case.json`):
 * { "timestamp": 1423159771, "clamp": true, "mapPaths": ["/tmp/x=/build"], "sortArMembers": true,
 *   "pycInvalidation": "checked-hash", "formats": "-zip" }
 */
export function optionsFromJson(obj: Record<string, unknown>): Options {
  const o: { -readonly [K in keyof Options]?: Options[K] } = {};
  const known = new Set(['timestamp', 'clamp', 'mapPaths', 'sortArMembers', 'pycInvalidation', 'pycSortSets', 'formats', 'comment', 'ociOwners', 'keepLayers', 'keepLayerDigests', 'peTimestamp', 'rpmBuildHost']);
  for (const k of Object.keys(obj)) if (!known.has(k)) throw new Error(`unknown option "${k}" in options file`);
  if (obj.timestamp !== undefined) o.timestamp = Number(obj.timestamp);
  if (obj.clamp !== undefined) o.clamp = Boolean(obj.clamp);
  if (Array.isArray(obj.mapPaths)) o.mapPaths = obj.mapPaths.map((s) => parseMapPath(String(s)));
  if (obj.sortArMembers !== undefined) o.sortArMembers = Boolean(obj.sortArMembers);
  if (obj.pycSortSets !== undefined) o.pycSortSets = Boolean(obj.pycSortSets);
  if (obj.pycInvalidation !== undefined) o.pycInvalidation = obj.pycInvalidation as Options['pycInvalidation'];
  if (obj.peTimestamp !== undefined) {
    if (obj.peTimestamp !== 'content' && obj.peTimestamp !== 'T') throw new Error(`peTimestamp must be "content" or "T", got ${String(obj.peTimestamp)}`);
    o.peTimestamp = obj.peTimestamp;
  }
  if (obj.rpmBuildHost !== undefined) o.rpmBuildHost = String(obj.rpmBuildHost);
  if (obj.ociOwners !== undefined) o.ociOwners = obj.ociOwners === 'zero' ? 'zero' : 'keep';
  if (obj.keepLayers !== undefined) o.keepLayers = Number(obj.keepLayers);
  if (Array.isArray(obj.keepLayerDigests)) o.keepLayerDigests = obj.keepLayerDigests.map((d) => String(d).replace(/^sha256:/, ''));
  if (typeof obj.formats === 'string') o.formats = applyFormatsSpec(obj.formats, HANDLERS.map((h) => h.name));
  return defaultOptions(o);
}
