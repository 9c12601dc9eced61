// Produce a corpus case's expected output with the current code:
//   npx tsx scripts/make-golden.ts corpus/<family>/<case> [...]
// Writes <case>.out when the output differs from the input (and removes a stale .out when it
// does not). A golden made this way must then be checked by hand and by the format's reference
// tools before it is committed; never re-record a golden just to make a failing test pass.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { normalizeBytes } from '../src/engine.js';
import { optionsFromJson } from '../src/options.js';
import { HANDLERS } from '../formats/index.js';

for (const input of process.argv.slice(2)) {
  const optsFile = `${input}.json`;
  const options = optionsFromJson(existsSync(optsFile) ? JSON.parse(readFileSync(optsFile, 'utf8')) : {});
  const r = await normalizeBytes(readFileSync(input), basename(input), options, HANDLERS);
  if (r.status === 'changed') {
    writeFileSync(`${input}.out`, r.output);
    console.log(`${input}: changed -> ${input}.out`);
  } else {
    if (existsSync(`${input}.out`)) rmSync(`${input}.out`);
    console.log(`${input}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`);
  }
  for (const c of r.changes) console.log(`  ${c.kind}: ${c.member ? c.member + ': ' : ''}${c.what}${c.count ? ` (x${c.count})` : ''}`);
  for (const n of r.notices) console.log(`  notice: ${n}`);
}
