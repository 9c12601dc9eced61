// JAR manifest (java.util.jar.Manifest; JAR File Specification, "Manifest Specification"):
// remove the main- and per-entry-section headers that record when, where or by whom a jar was
// built, and nothing else. A header is a `Name: value` line plus its continuation lines (lines
// starting with one space, from the 72-byte wrapping); removing a header removes its
// continuation lines with it, and every other byte (wrapping, line ends, order) stays.

/** Header names removed, compared case-insensitively (see docs/zip.md for why each). */
export const VOLATILE_HEADERS: readonly string[] = [
  'Built-By', // user name (Maven archiver, Ant)
  'Built-Host', // host name
  'Build-Host',
  'Built-On', // host name or date, depending on the plugin
  'Bnd-LastModified', // build time in ms (bnd / maven-bundle-plugin)
  'Build-Time',
  'Build-Date',
  'Build-Timestamp',
  'Built-Date',
  'Built-Time',
  'Build-Timestamp-Millis',
];

const REMOVE = new Set(VOLATILE_HEADERS.map((h) => h.toLowerCase()));

/** Split into lines keeping each line's terminator (\r\n, \n or \r). */
function lines(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$/g) ?? [];
}

/** The manifest without volatile headers, and the names removed (in order). */
export function cleanManifest(text: string): { text: string; removed: string[] } {
  const out: string[] = [];
  const removed: string[] = [];
  let dropping = false;
  for (const line of lines(text)) {
    if (line.startsWith(' ')) {
      if (!dropping) out.push(line);
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    dropping = colon > 0 && REMOVE.has(name.toLowerCase());
    if (dropping) removed.push(name);
    else out.push(line);
  }
  return { text: removed.length ? out.join('') : text, removed };
}
