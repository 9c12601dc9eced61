// Wheel RECORD (PEP 376 / PEP 427 / packaging "Recording installed projects"): a CSV file with
// one `path,sha256=<urlsafe base64, no padding>,size` row per member. When a member's content
// changes (a normalized pyc or nested archive), its row gets the new hash and size so
// `pip install` still verifies. Rows are put in archive order (the RECORD's own row, and rows
// for paths not in the archive, after them in their original order). Each untouched row keeps
// its bytes; only the two last fields of a changed row are rewritten.

export interface RecordDigest {
  /** urlsafe base64 of the sha256, no padding. */
  readonly hash: string;
  readonly size: number;
}

interface Row {
  path: string;
  body: string;
  eol: string;
}

function unquote(field: string): string {
  if (field.length >= 2 && field.startsWith('"') && field.endsWith('"')) return field.slice(1, -1).replace(/""/g, '"');
  return field;
}

function parseRows(text: string): Row[] {
  const rows: Row[] = [];
  for (const m of text.matchAll(/([^\r\n]*)(\r\n|\n|\r|$)/g)) {
    if (m[1] === '' && m[2] === '') continue;
    const body = m[1]!;
    const eol = m[2]!;
    // hash and size never contain commas: the path is everything before the last two.
    const c2 = body.lastIndexOf(',');
    const c1 = c2 > 0 ? body.lastIndexOf(',', c2 - 1) : -1;
    rows.push({ path: c1 >= 0 ? unquote(body.slice(0, c1)) : body, body, eol });
  }
  return rows;
}

/**
 * The rewritten RECORD: rows of changed members updated, rows in the order of `archiveOrder`.
 * Returns the new text (equal to the input when nothing moved or changed).
 */
export function rewriteRecord(text: string, changed: ReadonlyMap<string, RecordDigest>, archiveOrder: readonly string[]): string {
  const rows = parseRows(text);
  const pos = new Map<string, number>();
  archiveOrder.forEach((n, i) => {
    if (!pos.has(n)) pos.set(n, i);
  });
  const keyed = rows.map((r, i) => {
    const d = changed.get(r.path);
    if (d) {
      const c2 = r.body.lastIndexOf(',');
      const c1 = r.body.lastIndexOf(',', c2 - 1);
      r.body = `${r.body.slice(0, c1)},sha256=${d.hash},${d.size}`;
    }
    const isRecord = /(^|\/)RECORD$/.test(r.path) && /\.dist-info\/RECORD$/.test(r.path);
    const p = pos.get(r.path);
    return { r, i, k: isRecord || p === undefined ? Number.MAX_SAFE_INTEGER : p };
  });
  keyed.sort((a, b) => a.k - b.k || a.i - b.i);
  // The last row keeps the file's final line ending (or lack of one); others keep their own.
  const eols = rows.map((r) => r.eol);
  return keyed.map((x, j) => x.r.body + (j === keyed.length - 1 ? eols[eols.length - 1] : x.r.eol || eols.find((e) => e) || '\n')).join('');
}
