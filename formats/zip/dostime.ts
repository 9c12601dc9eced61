// MS-DOS date/time fields of zip headers (APPNOTE 4.4.6), read and written as UTC.
// Zip has no time zone; detnorm writes T as UTC always (DESIGN.md section 3). The range a DOS
// date can hold is 1980-01-01 .. 2107-12-31 with 2-second resolution.

/** "No time" for zip: 1980-01-01 12:01:00 UTC, which no time zone turns into 1979. */
export const ZIP_NO_TIME = Date.UTC(1980, 0, 1, 12, 1, 0) / 1000;
/** Earliest and latest instants a DOS date/time can hold (read as UTC). */
export const DOS_MIN = Date.UTC(1980, 0, 1, 0, 0, 0) / 1000;
export const DOS_MAX = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000;
/** detnorm's floor for written times (the "no time" value). */
export const ZIP_FLOOR = ZIP_NO_TIME;

export interface DosDateTime {
  readonly date: number;
  readonly time: number;
}

/** Encode epoch seconds (UTC) into DOS date and time, flooring to 2 s and clamping to [floor, DOS_MAX]. */
export function toDos(epochSeconds: number, floor = ZIP_FLOOR): DosDateTime {
  let s = Math.floor(epochSeconds);
  if (!Number.isFinite(s) || s < floor) s = floor;
  if (s > DOS_MAX) s = DOS_MAX;
  const d = new Date(s * 1000);
  const year = d.getUTCFullYear();
  const date = ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | (d.getUTCSeconds() >> 1);
  return { date, time };
}

/**
 * Decode DOS date and time as UTC epoch seconds. Out-of-range fields (month 0, day 0, hour 25,
 * as some writers leave) are normalized by Date.UTC arithmetic; a zero date gives DOS_MIN.
 */
export function fromDos(date: number, time: number): number {
  if (date === 0) return DOS_MIN;
  const year = 1980 + ((date >> 9) & 0x7f);
  const month = ((date >> 5) & 0x0f) - 1;
  const day = date & 0x1f;
  const hour = (time >> 11) & 0x1f;
  const min = (time >> 5) & 0x3f;
  const sec = (time & 0x1f) * 2;
  return Date.UTC(year, month, day, hour, min, sec) / 1000;
}
