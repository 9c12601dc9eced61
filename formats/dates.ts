// Date texts found in artifacts, parsed and written in UTC only (no TZ, no locale, no
// Date.parse, whose accepted formats vary between engines): ISO 8601 / RFC 3339, RFC 1123
// (RFC 822 with four-digit years), gettext's "YYYY-MM-DD HH:MM+ZZZZ", plain dates.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** Broken-down UTC time of an epoch (seconds). */
export interface Civil {
  readonly year: number;
  readonly month: number; // 1..12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly weekday: number; // 0 = Sunday
}

export function civil(epoch: number): Civil {
  const d = new Date(epoch * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/** Epoch seconds of a UTC civil time, or undefined when a field is out of range. */
export function epochOf(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  // Date.UTC maps years 0..99 to 1900..1999; no artifact date we read has such a year.
  if (year < 100 || year > 9999) return undefined;
  const midnight = Date.UTC(year, month - 1, day);
  // Reject 31 February and the like (Date.UTC rolls them over).
  if (new Date(midnight).getUTCDate() !== day) return undefined;
  return midnight / 1000 + hour * 3600 + minute * 60 + second;
}

const p2 = (n: number): string => String(n).padStart(2, '0');
const p4 = (n: number): string => String(n).padStart(4, '0');

/** `2015-02-05T18:09:31-00:00`: RFC 3339 with the "UTC, local offset unknown" suffix. */
export function formatIsoUnknownOffset(epoch: number): string {
  const c = civil(epoch);
  return `${p4(c.year)}-${p2(c.month)}-${p2(c.day)}T${p2(c.hour)}:${p2(c.minute)}:${p2(c.second)}-00:00`;
}

/** `Thu, 05 Feb 2015 18:09:31 +0000` (RFC 1123 section 5.2.14). */
export function formatRfc1123(epoch: number): string {
  const c = civil(epoch);
  return `${DAYS[c.weekday]}, ${p2(c.day)} ${MONTHS[c.month - 1]} ${p4(c.year)} ${p2(c.hour)}:${p2(c.minute)}:${p2(c.second)} +0000`;
}

/** `2015-02-05 18:09+0000`, as msgfmt/xgettext write POT-Creation-Date. */
export function formatGettext(epoch: number): string {
  const c = civil(epoch);
  return `${p4(c.year)}-${p2(c.month)}-${p2(c.day)} ${p2(c.hour)}:${p2(c.minute)}+0000`;
}

/** `2015-02-05`. */
export function formatDate(epoch: number): string {
  const c = civil(epoch);
  return `${p4(c.year)}-${p2(c.month)}-${p2(c.day)}`;
}

/** Offset text `+01:00`, `-0530`, `Z`, `UTC`, `GMT` -> seconds east of UTC. */
function offsetSeconds(text: string): number | undefined {
  if (/^(Z|UT|UTC|GMT)$/i.test(text)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(text);
  if (!m) return undefined;
  const v = Number(m[2]) * 3600 + Number(m[3]) * 60;
  return m[1] === '-' ? -v : v;
}

/** ISO 8601 date-time (`2016-07-24T11:19:04+01:00`, `2016-07-24 11:19:04Z`, no offset = UTC). */
export function parseIso(text: string): number | undefined {
  const m = /^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?\s*$/i.exec(text);
  if (!m) return undefined;
  const base = epochOf(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  const off = m[7] === undefined ? 0 : offsetSeconds(m[7]);
  return base === undefined || off === undefined ? undefined : base - off;
}

/** True when a text starts like an ISO 8601 date. */
export function looksIso(text: string): boolean {
  return /^\s*\d{4}-\d{2}-\d{2}/.test(text);
}

/** RFC 822/1123 (`Thu, 05 Feb 2015 18:09:31 +0000`, weekday optional, `GMT` or numeric zone). */
export function parseRfc1123(text: string): number | undefined {
  const m = /^\s*(?:[A-Za-z]{3},?\s+)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{2}):(\d{2})(?::(\d{2}))?\s*(Z|UT|UTC|GMT|[+-]\d{2}:?\d{2})?\s*$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2]!.toLowerCase()) + 1;
  if (month === 0) return undefined;
  const base = epochOf(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const off = m[7] === undefined ? 0 : offsetSeconds(m[7]);
  return base === undefined || off === undefined ? undefined : base - off;
}

/** gettext's `YYYY-MM-DD HH:MM+ZZZZ` (seconds and zone optional). */
export function parseGettext(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{2}:?\d{2}|Z|UTC|GMT)?\s*$/.exec(text);
  if (!m) return undefined;
  const base = epochOf(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const off = m[7] === undefined ? 0 : offsetSeconds(m[7]);
  return base === undefined || off === undefined ? undefined : base - off;
}

/** `YYYY-MM-DD` -> epoch of its midnight UTC. */
export function parseDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m ? epochOf(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
}
