// Compressed payloads (issue 15): detnorm on .tar.xz/.tar.zst/.tar.bz2/.tar.lz4 against the
// reference CLIs of Debian 12 on the same payload, and peak RSS on 1 GiB archives.
// Needs the bundle (`npm run build`). Inputs are generated in $TMPDIR and deleted after.
//   node bench/compress-bench.mjs [--mb 64] [--gib 1] [--reps 1] [--skip-big] [--xz-big-changed]
//        [--temp | --temp-only] [--zeros-gib 4] [--member-mib 1024] [--xz-member-mib 64]
//        [--xz-canonical-mib 0] [--cli PATH]
// Part 1, throughput: a --mb MiB tar as a build leaves it (Python tarfile, owner 1000, unsorted)
//   compressed by each CLI; detnorm (decode, normalize the tar, recompress: `-o OUT`) against
//   the CLI compressing and decompressing the canonical tar alone; detnorm's output is checked
//   byte-equal to the CLI's (the oracle).
// Part 2, memory: a --gib GiB .tar.zst whose tar changes (decode, normalize, re-encode at
//   zstd -3) and a --gib GiB .tar.xz whose tar is already canonical (decode and verify; with
//   --xz-big-changed also one that changes, which re-encodes at xz -6: slow), under
//   /usr/bin/time for the peak RSS of the whole detnorm process.
// Part 3 (--temp; root: mounts tmpfs), temp disk: with TMPDIR on its own tmpfs, the peak of its
//   used space (polled every 20 ms) and the peak RSS, for a gzip of --zeros-gib GiB of zeros
//   (256 MiB tmpfs: nothing may be spilled) and a .tar.zst with one --member-mib MiB member
//   (default 1024) and a .tar.xz with one --xz-member-mib MiB member (default 64) whose tar
//   changes (the payload is spilled once; its new form is compressed straight into the
//   output); `--xz-canonical-mib N` adds a .tar.xz whose N MiB tar is already canonical.
//   `--temp-only` skips parts 1 and 2; `--cli PATH` runs another build (before/after).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const { values } = parseArgs({
  options: {
    mb: { type: 'string' },
    gib: { type: 'string' },
    reps: { type: 'string' },
    'skip-big': { type: 'boolean' },
    'xz-big-changed': { type: 'boolean' },
    temp: { type: 'boolean' },
    'temp-only': { type: 'boolean' },
    'zeros-gib': { type: 'string' },
    'member-mib': { type: 'string' },
    'xz-member-mib': { type: 'string' },
    'xz-canonical-mib': { type: 'string' },
    cli: { type: 'string' },
  },
});
const cli = values.cli ?? fileURLToPath(new URL('../dist/cli.mjs', import.meta.url)); // --cli: another build, for a before/after figure
if (!existsSync(cli)) throw new Error('dist/cli.mjs is missing: run `npm run build` first');
const T = 1700000000;
const MB = Number(values.mb ?? 64);
const GIB = Number(values.gib ?? 1);
const reps = Number(values.reps ?? 1);
const work = mkdtempSync(join(tmpdir(), 'detnorm-cbench-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sh = (cmd) => execFileSync('sh', ['-c', cmd], { maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] }).toString();

/** Seconds and peak RSS (MiB) of a shell command, from /usr/bin/time. */
function timed(cmd) {
  const r = spawnSync('sh', ['-c', `/usr/bin/time -f '%e %M' sh -c '${cmd.replace(/'/g, "'\\''")}' 2>&1 >/dev/null | tail -1`], { encoding: 'utf8' });
  const [secs, kb] = r.stdout.trim().split(/\s+/).map(Number);
  if (!Number.isFinite(secs)) throw new Error(`${cmd}: ${r.stdout}${r.stderr}`);
  return { secs, mib: kb / 1024 };
}

/**
 * A tar of about `bytes` as a build leaves it: Python tarfile (GNU format), owner 1000, mtimes
 * spread, files in generation order; contents half repetitive text, half hash noise.
 */
function makeTar(path, bytes, seed) {
  const py = `
import tarfile, hashlib, io, sys
total, seed = ${bytes}, ${seed}
out = tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT)
i = 0; done = 0
while done < total:
    size = min(total - done, 4096 * (1 + (i * 7919) % 200))
    parts = []; h = hashlib.sha256(b'%d-%d' % (seed, i)).digest()
    while sum(map(len, parts)) < size:
        parts.append((b'line %d of a fairly repetitive text file\\n' % i) * 40); h = hashlib.sha256(h).digest(); parts.append(h * 8)
    data = b''.join(parts)[:size]
    ti = tarfile.TarInfo('src/d%d/f%d.dat' % (i % 97, i)); ti.size = size; ti.mtime = 1600000000 + i; ti.uid = ti.gid = 1000; ti.uname = ti.gname = 'builder'; ti.mode = 0o664
    out.addfile(ti, io.BytesIO(data)); done += size; i += 1
out.close()
`;
  execFileSync('python3', ['-c', py, path], { stdio: 'inherit' });
}

const CASES = [
  { name: 'xz -6 -T1', ext: 'tar.xz', build: 'xz -6 -T1 -c', oracle: 'xz -6 -T1 -c', decode: 'xz -dc' },
  { name: 'zstd -19', ext: 'tar.zst', build: 'zstd -q -19 -c', oracle: 'zstd -q -19 -c', decode: 'zstd -qdc' },
  { name: 'zstd (-3)', ext: 'tar.zst', build: 'zstd -q -3 -c', oracle: 'zstd -q -3 -c', decode: 'zstd -qdc' },
  { name: 'bzip2 -9', ext: 'tar.bz2', build: 'bzip2 -9 -c', oracle: 'bzip2 -9 -c', decode: 'bzip2 -dc' },
  { name: 'lz4 -9', ext: 'tar.lz4', build: 'lz4 -q -1 -c', oracle: 'lz4 -q -9 -c', decode: 'lz4 -qdc' },
];

/** Bytes used on the file system at `dir`. */
function usedBytes(dir) {
  const s = statfsSync(dir);
  return (s.blocks - s.bfree) * s.bsize;
}

/**
 * Run `node cli args` with TMPDIR on a fresh tmpfs of `size` at `tmp`: seconds, exit status,
 * stderr, peak RSS (MiB, /usr/bin/time) and peak temp space used (MiB, polled every 20 ms).
 */
async function withTempWatch(tmp, size, args) {
  mkdirSync(tmp, { recursive: true });
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', tmp]).status !== 0) throw new Error('cannot mount a tmpfs (part 3 needs root)');
  try {
    const base = usedBytes(tmp);
    let peak = 0;
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'MAXRSS %M', process.execPath, cli, ...args], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setInterval(() => (peak = Math.max(peak, usedBytes(tmp) - base)), 20);
    const status = await new Promise((resolve) => child.on('close', resolve));
    clearInterval(timer);
    peak = Math.max(peak, usedBytes(tmp) - base);
    const rss = Number(/MAXRSS (\d+)/.exec(stderr)?.[1] ?? NaN) / 1024;
    return { secs: (performance.now() - t0) / 1000, status, stderr: stderr.replace(/MAXRSS \d+\n?/, '').trim(), rss, peakMib: peak / 1048576 };
  } finally {
    spawnSync('umount', ['-l', tmp]);
  }
}

/** A ustar archive holding one member of `bytes` bytes of numbered text lines (owner 1000: it changes). */
function textTarFile(path, bytes) {
  const octal = (n, w) => n.toString(8).padStart(w - 1, '0') + '\0';
  const h = Buffer.alloc(512);
  h.write('big.txt', 0);
  h.write(octal(0o644, 8), 100);
  h.write(octal(1000, 8), 108);
  h.write(octal(1000, 8), 116);
  h.write(octal(bytes, 12), 124);
  h.write(octal(1600000000, 12), 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, h);
    let done = 0;
    for (let i = 0; done < bytes; ) {
      let text = '';
      while (text.length < 1 << 20) text += `line ${i++} of a build log, step ${(i * 7919) % 100003}\n`;
      const chunk = Buffer.from(text).subarray(0, Math.min(bytes - done, 1 << 20));
      writeSync(fd, chunk);
      done += chunk.length;
    }
    const end = 512 + bytes + ((512 - (bytes % 512)) % 512) + 1024;
    writeSync(fd, Buffer.alloc(end - 512 - bytes + ((10240 - (end % 10240)) % 10240)));
  } finally {
    closeSync(fd);
  }
}

async function tempDisk() {
  const zerosGib = Number(values['zeros-gib'] ?? 4);
  const memberMib = Number(values['member-mib'] ?? 1024);
  // xz -6 re-encoding runs at about 1 MB/s in WebAssembly on a busy 2-core machine: a smaller member by default.
  const xzMemberMib = Number(values['xz-member-mib'] ?? 64);
  console.log(`\n3. temp disk (TMPDIR on its own tmpfs, used space polled every 20 ms) and peak RSS`);
  const zeros = join(work, 'zeros.gz');
  sh(`head -c ${Math.round(zerosGib * 1024 ** 3)} /dev/zero | gzip -1 > ${zeros}`);
  sh(`printf '\\001\\002\\003\\004' | dd of=${zeros} bs=1 seek=4 conv=notrunc status=none`); // MTIME set: the header changes
  const z = await withTempWatch(join(work, 'tmp-zeros'), '256m', ['-q', zeros]);
  console.log(`   gzip of ${zerosGib} GiB of zeros (256 MiB tmpfs): exit ${z.status}, ${z.secs.toFixed(0)} s, peak temp ${z.peakMib.toFixed(1)} MiB, peak RSS ${z.rss.toFixed(0)} MiB ${z.stderr}`);
  rmSync(zeros);
  for (const [ext, mib, cmd] of [
    ['tar.zst', memberMib, 'zstd -q -3 -T0 -c'],
    ['tar.xz', xzMemberMib, 'xz -1 -T0 -c'],
  ]) {
    const tar = join(work, 'member.tar');
    textTarFile(tar, mib * 1048576);
    const tarMib = statSync(tar).size / 1048576;
    const f = join(work, `member.${ext}`);
    sh(`${cmd} ${tar} > ${f}`);
    rmSync(tar);
    const size = `${Math.ceil(tarMib * 1.25) + 64}m`;
    const r = await withTempWatch(join(work, `tmp-${ext}`), size, ['-q', f]);
    console.log(`   .${ext}, one ${mib} MiB member, tar changes (${tarMib.toFixed(0)} MiB payload, ${size} tmpfs): exit ${r.status}, ${r.secs.toFixed(0)} s, peak temp ${r.peakMib.toFixed(0)} MiB (${(r.peakMib / tarMib).toFixed(2)}x the payload), peak RSS ${r.rss.toFixed(0)} MiB ${r.stderr}`);
    rmSync(f);
  }
  const canonMib = Number(values['xz-canonical-mib'] ?? 0);
  if (canonMib > 0) {
    // A .tar.xz whose tar is already canonical: decoded and verified, spilled once, normalized to
    // find it unchanged; nothing is re-encoded or written.
    const tar = join(work, 'member.tar');
    const canon = join(work, 'canon.tar');
    textTarFile(tar, canonMib * 1048576);
    sh(`node ${cli} -q -o ${canon} ${tar}`);
    rmSync(tar);
    const tarMib = statSync(canon).size / 1048576;
    const f = join(work, 'canon.tar.xz');
    sh(`xz -0 -T0 -c ${canon} > ${f}`);
    rmSync(canon);
    const size = `${Math.ceil(tarMib * 1.25) + 64}m`;
    const r = await withTempWatch(join(work, 'tmp-canon'), size, ['-q', f]);
    console.log(`   .tar.xz, one ${canonMib} MiB member, tar already canonical (${size} tmpfs): exit ${r.status}, ${r.secs.toFixed(0)} s, peak temp ${r.peakMib.toFixed(0)} MiB (${(r.peakMib / tarMib).toFixed(2)}x the payload), peak RSS ${r.rss.toFixed(0)} MiB ${r.stderr}`);
    rmSync(f);
  }
}

try {
  console.log(`machine: ${sh('nproc').trim()} cores, load ${sh('cat /proc/loadavg').split(' ').slice(0, 3).join(' ')} (shared: figures are noisy)`);
  if (values['temp-only']) {
    await tempDisk();
    process.exit(0);
  }
  const tar = join(work, 'build.tar');
  makeTar(tar, MB * 1024 * 1024, 1);
  // The canonical tar (what detnorm makes of the build's), for the oracle and the CLI timings.
  const canon = join(work, 'canon.tar');
  sh(`node ${cli} -q --timestamp ${T} -o ${canon} ${tar}`);
  const payloadMb = statSync(canon).size / 1048576;
  console.log(`\n1. throughput on a ${payloadMb.toFixed(0)} MiB tar payload (median of ${reps}); MiB/s of payload`);
  console.log('   case            detnorm (decode+normalize+recompress)   CLI compress   CLI decompress   output == CLI');
  for (const c of CASES) {
    const input = join(work, `in.${c.ext}`);
    const out = join(work, `out.${c.ext}`);
    const oracle = join(work, `oracle.${c.ext}`);
    sh(`${c.build} ${tar} > ${input}`);
    const d = [];
    const comp = [];
    const dec = [];
    for (let r = 0; r < reps; r++) {
      rmSync(out, { force: true });
      d.push(timed(`node ${cli} -q --timestamp ${T} -o ${out} ${input}`).secs);
      comp.push(timed(`${c.oracle} ${canon} > ${oracle}`).secs);
      dec.push(timed(`${c.decode} ${oracle} > /dev/null`).secs);
    }
    const same = readFileSync(out).equals(readFileSync(oracle));
    const rate = (s) => `${(payloadMb / s).toFixed(1).padStart(6)} MiB/s (${s.toFixed(1)} s)`;
    console.log(`   ${c.name.padEnd(15)} ${rate(median(d)).padEnd(39)} ${rate(median(comp)).padEnd(14)} ${rate(median(dec)).padEnd(16)} ${same}`);
    rmSync(input);
    rmSync(out);
    rmSync(oracle);
  }
  if (!values['skip-big']) {
    console.log(`\n2. peak RSS on ${GIB} GiB payloads (whole detnorm process)`);
    const big = join(work, 'big.tar');
    makeTar(big, GIB * 1024 ** 3, 2);
    const zst = join(work, 'big.tar.zst');
    sh(`zstd -q -3 -T0 -c ${big} > ${zst}`);
    const bigCanon = join(work, 'big-canon.tar');
    sh(`node ${cli} -q --timestamp ${T} -o ${bigCanon} ${big}`);
    rmSync(big);
    const r1 = timed(`node ${cli} -q --timestamp ${T} -o ${join(work, 'big-out.tar.zst')} ${zst}`);
    const ok1 = sh(`zstd -qdc ${join(work, 'big-out.tar.zst')} | cmp - ${bigCanon} && echo equal`).trim();
    console.log(`   .tar.zst, tar changes (decode, normalize, zstd -3 re-encode): ${r1.secs.toFixed(0)} s, peak RSS ${r1.mib.toFixed(0)} MiB; payload == canonical tar: ${ok1 === 'equal'}`);
    rmSync(zst);
    rmSync(join(work, 'big-out.tar.zst'));
    const xzCanon = join(work, 'big-canon.tar.xz');
    sh(`xz -1 -T0 -c ${bigCanon} > ${xzCanon}`);
    const r2 = timed(`node ${cli} -q --check --timestamp ${T} ${xzCanon}`);
    console.log(`   .tar.xz, tar already canonical (decode and verify, nothing written): ${r2.secs.toFixed(0)} s, peak RSS ${r2.mib.toFixed(0)} MiB`);
    rmSync(xzCanon);
    if (values['xz-big-changed']) {
      const xz = join(work, 'big.tar.xz');
      sh(`node ${cli} -q --timestamp 1 -o ${join(work, 'other.tar')} ${bigCanon} && xz -6 -T0 -c ${join(work, 'other.tar')} > ${xz} && rm ${join(work, 'other.tar')}`);
      const r3 = timed(`node ${cli} -q --timestamp ${T} -o ${join(work, 'big-out.tar.xz')} ${xz}`);
      console.log(`   .tar.xz, tar changes (decode, normalize, xz -6 re-encode, multi-threaded layout): ${r3.secs.toFixed(0)} s, peak RSS ${r3.mib.toFixed(0)} MiB`);
    }
  }
  if (values.temp) await tempDisk();
} finally {
  rmSync(work, { recursive: true, force: true });
}
