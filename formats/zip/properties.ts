// Java .properties files written by java.util.Properties.store: its first lines are an
// optional `#comments` line and then `#` + Date.toString() ("#Mon Oct 27 09:12:51 UTC 2014"),
// the build time. Remove that date line (only among the leading comment lines), nothing else.
// (A standalone .properties handler may exist in formats/; inside zips this rule runs when no
// such handler changed the member.)

const DATE_LINE = /^#(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-3]\d [0-2]\d:[0-5]\d:[0-6]\d [A-Za-z][A-Za-z0-9_+\-:/]* \d{4}[ \t]*(\r\n|\n|\r)?$/;

/** The text without its Properties.store date comment, or undefined when there is none. */
export function removeDateComment(text: string): string | undefined {
  let at = 0;
  while (at < text.length && text[at] === '#') {
    const m = /\r\n|\n|\r/.exec(text.slice(at));
    const end = m ? at + m.index + m[0].length : text.length;
    const line = text.slice(at, end);
    if (DATE_LINE.test(line)) return text.slice(0, at) + text.slice(end);
    at = end;
  }
  return undefined;
}
