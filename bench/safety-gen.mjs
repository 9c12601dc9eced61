// Generators of the hostile and heavy inputs of issue 13 (memory, temp disk, bombs), shared by
// bench/safety-bench.mjs and the slow tests. Plain Node: zlib for deflate (the inputs need not be
// canonical, only valid), a minimal ustar and zip writer.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import zlib from 'node:zlib';

function octal(n, width) {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

/** A ustar header for a regular file (mtime 1600000000, uid 1000: it needs normalizing). */
export function tarHeader(name, size, mtime = 1600000000) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100);
  h.write(octal(1000, 8), 108);
  h.write(octal(1000, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(mtime, 12), 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

/** A tar of one member of `size` bytes of `fill`, padded to a 10 KiB record, in memory. */
export function tarOfSize(size, fill = 0, name = 'data.bin') {
  const body = Buffer.alloc(size, fill);
  const pad = Buffer.alloc((512 - (size % 512)) % 512);
  const raw = Buffer.concat([tarHeader(name, size), body, pad, Buffer.alloc(1024)]);
  return Buffer.concat([raw, Buffer.alloc((10240 - (raw.length % 10240)) % 10240)]);
}

/** A zip of members ({ name, data, stored }) with deflate (zlib), no data descriptors. */
export function zipOf(members) {
  const locals = [];
  const central = [];
  let pos = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const packed = m.stored ? m.data : zlib.deflateRawSync(m.data, { level: 9 });
    const crc = zlib.crc32(m.data) >>> 0;
    const method = m.stored ? 0 : 8;
    const l = Buffer.alloc(30);
    l.writeUInt32LE(0x04034b50, 0);
    l.writeUInt16LE(20, 4);
    l.writeUInt16LE(0, 6);
    l.writeUInt16LE(method, 8);
    l.writeUInt16LE(0x6000, 10);
    l.writeUInt16LE(0x5021, 12);
    l.writeUInt32LE(crc, 14);
    l.writeUInt32LE(packed.length, 18);
    l.writeUInt32LE(m.data.length, 22);
    l.writeUInt16LE(name.length, 26);
    locals.push(l, name, packed);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(0x031e, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0, 8);
    c.writeUInt16LE(method, 10);
    c.writeUInt16LE(0x6000, 12);
    c.writeUInt16LE(0x5021, 14);
    c.writeUInt32LE(crc, 16);
    c.writeUInt32LE(packed.length, 20);
    c.writeUInt32LE(m.data.length, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    c.writeUInt32LE(pos, 42);
    central.push(c, name);
    pos += 30 + name.length + packed.length;
  }
  const cd = Buffer.concat(central);
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(members.length, 8);
  e.writeUInt16LE(members.length, 10);
  e.writeUInt32LE(cd.length, 12);
  e.writeUInt32LE(pos, 16);
  return Buffer.concat([...locals, cd, e]);
}

/** Issue 13's memory case: a zip of `count` members, each a `tarBytes` tar that needs normalizing. */
export function nestedTarZip(count = 150, tarBytes = 8 << 20) {
  const tar = tarOfSize(tarBytes - 11264);
  return zipOf(Array.from({ length: count }, (_, i) => ({ name: `t${String(i).padStart(3, '0')}.tar`, data: tar })));
}

/**
 * A 42.zip-style file: `levels` of zips, each holding `fanout` copies of the level below; the
 * innermost holds `fanout` members of `leafBytes` zeros.
 */
export function zip42(levels = 4, fanout = 16, leafBytes = 1 << 20) {
  let cur = zipOf(Array.from({ length: fanout }, (_, i) => ({ name: `${i.toString(16)}.bin`, data: Buffer.alloc(leafBytes) })));
  for (let l = 1; l < levels; l++) cur = zipOf(Array.from({ length: fanout }, (_, i) => ({ name: `lib${i.toString(16)}.zip`, data: cur })));
  return cur;
}

/** Set a gzip file's MTIME field (so that its header needs normalizing). */
function stampGzip(path) {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.from([1, 2, 3, 4]), 0, 4, 4);
  } finally {
    closeSync(fd);
  }
}

/** Write a gzip of `bytes` zeros to `path` with GNU gzip (MTIME set: its header needs normalizing). */
export function gzipZerosFile(path, bytes) {
  execFileSync('sh', ['-c', `head -c ${bytes} /dev/zero | gzip -1 > "$1"`, 'sh', path]);
  stampGzip(path);
}

/** Write a .tar.gz of one member of `memberBytes` pseudo-random bytes (GNU gzip -1). */
export function bigTarGzFile(path, memberBytes) {
  bigTarCompressedFile(path, memberBytes, 'gzip -1 -c');
  stampGzip(path);
}

/** Write a tar of one member `big.bin` of `memberBytes` pseudo-random bytes, compressed by `compress` (a shell command, stdout). */
export function bigTarCompressedFile(path, memberBytes, compress) {
  const tar = `${path}.tmp-tar`;
  const fd = openSync(tar, 'w');
  try {
    let total = writeSync(fd, tarHeader('big.bin', memberBytes));
    const chunk = Buffer.alloc(1 << 20);
    let x = 12345;
    for (let i = 0; i < chunk.length; i += 4) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      chunk.writeUInt32LE(x, i);
    }
    for (let done = 0; done < memberBytes; ) {
      const n = Math.min(chunk.length, memberBytes - done);
      total += writeSync(fd, chunk, 0, n);
      done += n;
    }
    total += writeSync(fd, Buffer.alloc((512 - (memberBytes % 512)) % 512 + 1024));
    const rec = (10240 - (total % 10240)) % 10240;
    if (rec) writeSync(fd, Buffer.alloc(rec));
  } finally {
    closeSync(fd);
  }
  execFileSync('sh', ['-c', `${compress} "$1" > "$2"`, 'sh', tar, path]);
  rmSync(tar);
}

/** Write a tar of `count` members of `memberBytes` each (for the stdin case). */
export function bigTarFile(path, count, memberBytes) {
  const fd = openSync(path, 'w');
  try {
    const chunk = Buffer.alloc(1 << 20, 7);
    let total = 0;
    for (let i = 0; i < count; i++) {
      total += writeSync(fd, tarHeader(`m${i}.bin`, memberBytes));
      for (let done = 0; done < memberBytes; ) {
        const n = Math.min(chunk.length, memberBytes - done);
        total += writeSync(fd, chunk, 0, n);
        done += n;
      }
      const pad = (512 - (memberBytes % 512)) % 512;
      if (pad) total += writeSync(fd, Buffer.alloc(pad));
    }
    total += writeSync(fd, Buffer.alloc(1024));
    const rec = (10240 - (total % 10240)) % 10240;
    if (rec) writeSync(fd, Buffer.alloc(rec));
  } finally {
    closeSync(fd);
  }
}
