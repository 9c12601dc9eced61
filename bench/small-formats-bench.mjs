// Benchmark of the small formats (png, gettext .mo, javadoc pages): detnorm (library,
// normalizeFile/normalizeTree from the TypeScript sources) against strip-nondeterminism on the
// same inputs. Reports wall time (median of --reps) and detnorm's peak RSS for a PNG whose IDAT
// is far larger than the 1 MiB copy chunk (it must be streamed, not held).
//   npx tsx bench/small-formats-bench.mjs [--png-mb 256] [--pages 2000] [--messages 50000] [--reps 3]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { crc32 } from '../formats/crc32.ts';
import { normalizeBuffer, normalizeFile, normalizeTree } from '../src/api.ts';

const { values } = parseArgs({ options: { 'png-mb': { type: 'string' }, pages: { type: 'string' }, messages: { type: 'string' }, reps: { type: 'string' } } });
const pngMb = Number(values['png-mb'] ?? 256);
const pages = Number(values.pages ?? 2000);
const messages = Number(values.messages ?? 50000);
const reps = Number(values.reps ?? 3);
const T = 1423159771;
const work = mkdtempSync(join(tmpdir(), 'detnorm-small-bench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn) {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}
const sn = (args) => execFileSync('strip-nondeterminism', ['-T', String(T), ...args], { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'ignore', 'ignore'] });

function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

try {
  // 1. A PNG with one huge IDAT (the handler never decodes IDAT, so random bytes do).
  const png = join(work, 'big.png');
  const fd = openSync(png, 'w');
  writeSync(fd, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(4096, 0);
  ihdr.writeUInt32BE(4096, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  writeSync(fd, chunk('IHDR', ihdr));
  writeSync(fd, chunk('tIME', Buffer.from([0x07, 0xe5, 3, 4, 5, 6, 7])));
  writeSync(fd, chunk('tEXt', Buffer.from('date:create\x002021-03-04T05:06:07+01:00', 'latin1')));
  // Written in 1 MiB pieces with a running CRC, so this process never holds the IDAT.
  const len = Buffer.alloc(4);
  len.writeUInt32BE(pngMb * 1048576);
  writeSync(fd, Buffer.concat([len, Buffer.from('IDAT')]));
  let crc = crc32(Buffer.from('IDAT'));
  const piece = Buffer.alloc(1048576);
  for (let m = 0; m < pngMb; m++) {
    for (let i = 0; i < piece.length; i += 4) piece.writeUInt32LE(((m * piece.length + i) * 2654435761) >>> 0, i);
    crc = crc32(piece, crc);
    writeSync(fd, piece);
  }
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc);
  writeSync(fd, c);
  writeSync(fd, chunk('IEND', Buffer.alloc(0)));
  closeSync(fd);
  const before = process.resourceUsage().maxRSS;
  const tPng = [];
  for (let r = 0; r < reps; r++) tPng.push(await time(() => normalizeFile(png, { timestamp: T, output: join(work, 'big.out.png') })));
  const rss = process.resourceUsage().maxRSS;
  const tPngSn = [];
  for (let r = 0; r < reps; r++) {
    copyFileSync(png, join(work, 'sn.png'));
    tPngSn.push(await time(() => sn([join(work, 'sn.png')])));
  }
  const same = readFileSync(join(work, 'big.out.png')).equals(readFileSync(join(work, 'sn.png')));
  console.log(`png ${pngMb} MiB IDAT: detnorm ${median(tPng).toFixed(2)} s (${(pngMb / median(tPng)).toFixed(0)} MiB/s), peak RSS of the whole bench process ${(rss / 1024).toFixed(0)} MiB (${(before / 1024).toFixed(0)} MiB before normalizing); strip-nondeterminism ${median(tPngSn).toFixed(2)} s; outputs byte-equal: ${same}`);

  // 2. A large .mo catalog compiled by msgfmt (the date is 3 bytes longer than gettext's form, so offsets move).
  const po = ['msgid ""', 'msgstr ""', '"PO-Revision-Date: 2021-03-05 07:08:09+0100\\n"', '"Content-Type: text/plain; charset=UTF-8\\n"', ''];
  for (let i = 0; i < messages; i++) po.push(`msgid "message number ${i}"`, `msgstr "Nachricht Nummer ${i}"`, '');
  writeFileSync(join(work, 'big.po'), po.join('\n'));
  execFileSync('msgfmt', ['-o', join(work, 'big.mo'), join(work, 'big.po')]);
  const moSize = readFileSync(join(work, 'big.mo')).length;
  const tMo = [];
  for (let r = 0; r < reps; r++) tMo.push(await time(() => normalizeFile(join(work, 'big.mo'), { timestamp: T, output: join(work, 'big.out.mo') })));
  const tMoSn = [];
  for (let r = 0; r < reps; r++) {
    copyFileSync(join(work, 'big.mo'), join(work, 'sn.mo'));
    tMoSn.push(await time(() => sn([join(work, 'sn.mo')])));
  }
  const snChanged = !readFileSync(join(work, 'sn.mo')).equals(readFileSync(join(work, 'big.mo')));
  console.log(`mo ${messages} messages (${(moSize / 1048576).toFixed(1)} MiB), length-changing date: detnorm ${median(tMo).toFixed(3)} s; strip-nondeterminism ${median(tMoSn).toFixed(3)} s (changed the file: ${snChanged})`);

  // 3. A tree of javadoc pages (one JDK 17 page, many copies).
  const page = readFileSync(new URL('../corpus/javadoc/javadoc-example.html', import.meta.url));
  const tree = join(work, 'pages');
  const fresh = () => {
    rmSync(tree, { recursive: true, force: true });
    mkdirSync(tree);
    for (let i = 0; i < pages; i++) writeFileSync(join(tree, `P${i}.html`), page);
  };
  const tJd = [];
  for (let r = 0; r < reps; r++) {
    fresh();
    tJd.push(await time(() => normalizeTree(tree, { timestamp: T, jobs: 1 })));
  }
  const tJdSn = [];
  for (let r = 0; r < reps; r++) {
    fresh();
    const files = Array.from({ length: pages }, (_, i) => join(tree, `P${i}.html`));
    tJdSn.push(await time(() => sn(files)));
  }
  // Baseline: the same number of files that no handler claims (walk + pool + read + detect).
  const tTxt = [];
  for (let r = 0; r < reps; r++) {
    rmSync(tree, { recursive: true, force: true });
    mkdirSync(tree);
    for (let i = 0; i < pages; i++) writeFileSync(join(tree, `P${i}.txt`), page);
    tTxt.push(await time(() => normalizeTree(tree, { timestamp: T, jobs: 1 })));
  }
  const tMem = await time(async () => {
    for (let i = 0; i < pages; i++) await normalizeBuffer(page, { name: 'x.html', timestamp: T });
  });
  console.log(`javadoc ${pages} pages: in-process handler ${((tMem / pages) * 1000).toFixed(3)} ms/page;`);
  console.log(`javadoc ${pages} pages: detnorm (tree, 1 job) ${median(tJd).toFixed(2)} s (same tree as .txt, claimed by nobody: ${median(tTxt).toFixed(2)} s); strip-nondeterminism (one process, all files) ${median(tJdSn).toFixed(2)} s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
