// The times an image records about its own build, per the OCI image spec (config.md:
// `created`, `history[].created`; annotations.md: `org.opencontainers.image.created`) and
// their Docker/label-schema equivalents. Each becomes T (RFC 3339, UTC, whole seconds:
// "2015-02-05T18:09:31Z"); without T, 1970-01-01T00:00:00Z, the time the tar layers' "no
// time" 0 stands for (and what Bazel's rules_oci and ko write). With --clamp only later times
// become T. The rest of the config is the image's content and is kept.
import { canonicalTime } from '../../src/time.js';
import type { Options } from '../../src/types.js';
import { civil, parseIso } from '../dates.js';
import type { Tally } from '../tally.js';
import { JsonObject, type JsonValue } from './json.js';

/** Annotation and label keys that hold the build time. */
export const CREATED_KEYS = ['org.opencontainers.image.created', 'org.label-schema.build-date'] as const;

const p = (n: number, w = 2) => String(n).padStart(w, '0');

export function formatRfc3339(epoch: number): string {
  const c = civil(epoch);
  return `${p(c.year, 4)}-${p(c.month)}-${p(c.day)}T${p(c.hour)}:${p(c.minute)}:${p(c.second)}Z`;
}

/** The canonical text for a recorded time, or undefined to keep it. */
export function canonicalTimeText(options: Options, original: string): string | undefined {
  const epoch = parseIso(original);
  if (options.clamp && epoch === undefined) return undefined; // cannot compare: keep
  const t = formatRfc3339(canonicalTime(options, epoch, 0));
  if (options.clamp && epoch !== undefined && epoch <= (options.timestamp ?? 0)) return undefined;
  return t === original ? undefined : t;
}

/** Set `obj[key]` (a time string) to its canonical text; true when it changed. */
export function fixTime(obj: JsonObject, key: string, options: Options, tally: Tally, what: string): boolean {
  const v = obj.get(key);
  if (typeof v !== 'string') return false;
  const t = canonicalTimeText(options, v);
  if (t === undefined) return false;
  obj.set(key, t);
  tally.add('timestamp', `${what} -> ${t}`, `${what} ${v} -> ${t}`);
  return true;
}

/** Build-time annotations (or labels) in a string map; true when one changed. */
export function fixCreatedAnnotations(map: JsonValue | undefined, options: Options, tally: Tally, what: string): boolean {
  if (!(map instanceof JsonObject)) return false;
  let changed = false;
  for (const k of CREATED_KEYS) changed = fixTime(map, k, options, tally, `${what} ${k}`) || changed;
  return changed;
}

/**
 * An image config (OCI image config or Docker's container image JSON): created times, build
 * time labels, and the layer diff_ids (`diffIds[i]` replaces `rootfs.diff_ids[i]` when given).
 */
export function fixImageConfig(config: JsonObject, options: Options, tally: Tally, newDiffIds?: readonly (string | undefined)[]): boolean {
  let changed = fixTime(config, 'created', options, tally, 'config created');
  const history = config.getArray('history');
  if (history) {
    for (const h of history) if (h instanceof JsonObject) changed = fixTime(h, 'created', options, tally, 'config history[].created') || changed;
  }
  for (const section of ['config', 'container_config']) {
    const labels = config.getObject(section)?.getObject('Labels');
    changed = fixCreatedAnnotations(labels, options, tally, `config ${section}.Labels`) || changed;
  }
  if (newDiffIds) {
    const ids = config.getObject('rootfs')?.getArray('diff_ids');
    if (ids) {
      newDiffIds.forEach((d, i) => {
        if (d !== undefined && ids[i] !== d) {
          ids[i] = d;
          changed = true;
        }
      });
    }
  }
  return changed;
}
