// The canonical time T and the clamp rule (DESIGN.md section 3), shared by every handler.
import type { Options } from './types.js';

/**
 * The time to write for a field whose original value is `original` (seconds since the epoch,
 * undefined when the input had none). Without T the format's "no time" value is used; with
 * --clamp only times later than T become T.
 */
export function canonicalTime(options: Options, original: number | undefined, noTime: number): number {
  const t = options.timestamp;
  if (t === undefined) return noTime;
  if (options.clamp && original !== undefined && original <= t) return original;
  return t;
}

/** Parse an epoch given on the command line or in SOURCE_DATE_EPOCH: decimal digits only. */
export function parseEpoch(text: string): number | undefined {
  const s = text.trim();
  if (!/^\d{1,15}$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}
