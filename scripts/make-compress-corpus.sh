#!/usr/bin/env bash
# Make corpus/{xz,zstd,bzip2,lz4,deb}/: golden and hostile cases for issue 15, with the
# reference tools of Debian 12 (GNU tar 1.34, xz 5.4.1, zstd 1.5.4, bzip2 1.0.8, lz4 1.9.4,
# dpkg-deb 1.21). Every `.out` is the reference CLI's output on the canonical tar (the oracle),
# never detnorm's: test/corpus.test.ts then checks that detnorm produces exactly it.
#   scripts/make-compress-corpus.sh        (run from anywhere; overwrites those directories)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/detnorm-ccorpus.XXXXXX")
trap 'rm -rf "$work"' EXIT
T=1700000000
export LC_ALL=C TZ=UTC

# The tree: text that compresses, a script, a symlink; build A (canonical after detnorm) and the
# same tree stamped and owned the way a build leaves it.
tree=$work/tree
mkdir -p "$tree/pkg/bin" "$tree/pkg/share"
python3 -c "import random; r=random.Random(15); w=['alpha','beta','gamma','delta','xz','zstd','lz4','bzip2','tar','deb']; print('\n'.join(' '.join(r.choice(w) for _ in range(12)) for _ in range(3000)))" > "$tree/pkg/share/words.txt"
printf '#!/bin/sh\necho hello\n' > "$tree/pkg/bin/hello"
chmod 755 "$tree/pkg/bin/hello"
ln -s ../share/words.txt "$tree/pkg/bin/words"
find "$tree" -exec touch -h -d @1600000000 {} +
tar_build() { tar -C "$tree" --format=gnu --owner=1000 --group=1000 -cf - pkg; }
tar_canon() { tar -C "$tree" --format=gnu --sort=name --mtime=@$T --owner=0 --group=0 --numeric-owner --mode=a=rX,u+w -cf - pkg; }
tar_build > "$work/build.tar"
tar_canon > "$work/canon.tar"
opts() { printf '{ "timestamp": %s }\n' "$T" > "$1.json"; }

# corrupt FILE OFFSET_FROM_END: flip one byte.
corrupt() { python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)-int(sys.argv[2])]^=0xff; open(p,'wb').write(b)" "$1" "$2"; }
truncate_to() { python3 -c "import sys; p=sys.argv[1]; b=open(p,'rb').read(); open(p,'wb').write(b[:len(b)*int(sys.argv[2])//100])" "$1" "$2"; }

# ---- xz ----
d=$root/corpus/xz; mkdir -p "$d"; find "$d" -type f ! -name README.md -delete
xz -T1 -9 -c "$work/build.tar" > "$d/build-9.tar.xz"; opts "$d/build-9.tar.xz"
xz -6 -T1 --lzma2=preset=6,dict=64MiB -c "$work/canon.tar" > "$d/build-9.tar.xz.out"
xz -T2 --block-size=65536 -c "$work/build.tar" > "$d/build-mt.txz"; opts "$d/build-mt.txz"
xz -6 -T2 --block-size=65536 -c "$work/canon.tar" > "$d/build-mt.txz.out"
xz -T1 --check=sha256 -c "$work/canon.tar" > "$d/canonical-sha256.tar.xz"; opts "$d/canonical-sha256.tar.xz"
{ xz -T1 -c "$work/canon.tar"; head -c 8 /dev/zero; xz -T1 --check=none -c /dev/null; } > "$d/two-streams-padding.xz"; opts "$d/two-streams-padding.xz"
xz -T1 -c "$work/canon.tar" > "$d/truncated.tar.xz"; truncate_to "$d/truncated.tar.xz" 60; echo truncated > "$d/truncated.tar.xz.error"
xz -T1 -c "$work/canon.tar" > "$d/bad-check.tar.xz"; corrupt "$d/bad-check.tar.xz" 30; echo 'corrupt data' > "$d/bad-check.tar.xz.error"
printf '\xfd7zXZ\x00\x00\x04garbage-after-the-magic' > "$d/bad-header.xz"; echo 'corrupt data' > "$d/bad-header.xz.error"

# ---- zstd ----
d=$root/corpus/zstd; mkdir -p "$d"; find "$d" -type f ! -name README.md -delete
zstd -q -19 < "$work/build.tar" > "$d/build-19.tar.zst"; opts "$d/build-19.tar.zst"
zstd -q -19 < "$work/canon.tar" > "$d/build-19.tar.zst.out"
zstd -q -3 --no-check -c "$work/build.tar" > "$d/build-3-file.tzst"; opts "$d/build-3-file.tzst"
zstd -q -3 --no-check -c "$work/canon.tar" > "$d/build-3-file.tzst.out"
# Two frames holding the two halves of one tar, after a skippable frame (as pzstd writes one).
two_frames() { local n=$(( $(stat -c %s "$1") / 2 )); printf '\x50\x2a\x4d\x18\x04\x00\x00\x00abcd'; head -c $n "$1" | zstd -q; tail -c +$((n + 1)) "$1" | zstd -q; }
two_frames "$work/canon.tar" > "$d/skippable-two-frames.tar.zst"; opts "$d/skippable-two-frames.tar.zst"
two_frames "$work/build.tar" > "$d/build-skippable-two-frames.tar.zst"; opts "$d/build-skippable-two-frames.tar.zst"
zstd -q -3 < "$work/canon.tar" > "$d/build-skippable-two-frames.tar.zst.out"
zstd -q -c "$work/canon.tar" > "$d/truncated.tar.zst"; truncate_to "$d/truncated.tar.zst" 50; echo truncated > "$d/truncated.tar.zst.error"
zstd -q -c "$work/canon.tar" > "$d/bad-checksum.tar.zst"; corrupt "$d/bad-checksum.tar.zst" 2; echo 'checksum mismatch' > "$d/bad-checksum.tar.zst.error"
# A frame header that names dictionary 7 (FHD 0x01: one-byte dictionary ID).
printf '\x28\xb5\x2f\xfd\x01\x00\x07\x01\x00\x00' > "$d/needs-dictionary.zst"; echo 'needs dictionary 7' > "$d/needs-dictionary.zst.error"

# ---- bzip2 ----
d=$root/corpus/bzip2; mkdir -p "$d"; find "$d" -type f ! -name README.md -delete
bzip2 -9 -c "$work/build.tar" > "$d/build-9.tar.bz2"; opts "$d/build-9.tar.bz2"
bzip2 -9 -c "$work/canon.tar" > "$d/build-9.tar.bz2.out"
pbzip2 -1 -b1 -p2 -c "$work/build.tar" > "$d/build-pbzip2.tbz2"; opts "$d/build-pbzip2.tbz2"
pbzip2 -1 -b1 -p2 -c "$work/canon.tar" > "$d/build-pbzip2.tbz2.out"
bzip2 -c "$work/canon.tar" > "$d/truncated.tar.bz2"; truncate_to "$d/truncated.tar.bz2" 70; echo truncated > "$d/truncated.tar.bz2.error"
bzip2 -c "$work/canon.tar" > "$d/bad-crc.tar.bz2"; corrupt "$d/bad-crc.tar.bz2" 200; echo 'corrupt data' > "$d/bad-crc.tar.bz2.error"

# ---- lz4 ----
d=$root/corpus/lz4; mkdir -p "$d"; find "$d" -type f ! -name README.md -delete
lz4 -q -1 -BD -B4 --content-size -c "$work/build.tar" > "$d/build-frame.tar.lz4"; opts "$d/build-frame.tar.lz4"
lz4 -q -9 -BD -B4 --content-size -c "$work/canon.tar" > "$d/build-frame.tar.lz4.out"
lz4 -q -l -1 -c "$work/build.tar" > "$d/build-legacy.tar.lz4"; opts "$d/build-legacy.tar.lz4"
lz4 -q -l -9 -c "$work/canon.tar" > "$d/build-legacy.tar.lz4.out"
lz4 -q -c "$work/canon.tar" > "$d/truncated.tar.lz4"; truncate_to "$d/truncated.tar.lz4" 50; echo truncated > "$d/truncated.tar.lz4.error"
lz4 -q -l -c "$work/canon.tar" > "$d/truncated-legacy.tar.lz4"; truncate_to "$d/truncated-legacy.tar.lz4" 50; echo truncated > "$d/truncated-legacy.tar.lz4.error"
lz4 -q -BX -c "$work/canon.tar" > "$d/bad-block-checksum.tar.lz4"; corrupt "$d/bad-block-checksum.tar.lz4" 100; echo 'corrupt data' > "$d/bad-block-checksum.tar.lz4.error"

# ---- deb ----
d=$root/corpus/deb; mkdir -p "$d"; find "$d" -type f ! -name README.md -delete
p=$work/p; mkdir -p "$p/DEBIAN" "$p/usr/bin" "$p/usr/share/doc/detnorm-corpus"
printf 'Package: detnorm-corpus\nVersion: 1.0\nArchitecture: all\nMaintainer: detnorm <detnorm@example.org>\nDescription: corpus case\n' > "$p/DEBIAN/control"
cp "$tree/pkg/bin/hello" "$p/usr/bin/hello"; cp "$tree/pkg/share/words.txt" "$p/usr/share/doc/detnorm-corpus/words"
ln -s hello "$p/usr/bin/hi"
find "$p" -exec touch -h -d @1650000000 {} +
chown -R 1000:1000 "$p/usr"
SOURCE_DATE_EPOCH=1650000000 dpkg-deb --build "$p" "$d/build.deb" >/dev/null; opts "$d/build.deb"
chown -R 0:0 "$p/usr"
find "$p" -exec touch -h -d @1800000000 {} +
SOURCE_DATE_EPOCH=$T dpkg-deb --build --root-owner-group "$p" "$d/build.deb.out" >/dev/null
SOURCE_DATE_EPOCH=$T dpkg-deb -Zzstd --build --root-owner-group "$p" "$d/canonical-zstd.deb" >/dev/null; opts "$d/canonical-zstd.deb"
cp "$d/build.deb.out" "$d/signed.deb"; printf 'signature\n' > "$work/_gpgorigin"; (cd "$work" && ar q "$d/signed.deb" _gpgorigin); echo 'signed package' > "$d/signed.deb.error"
cp "$d/build.deb.out" "$d/truncated.deb"; truncate_to "$d/truncated.deb" 80; echo '"data.tar.xz"' > "$d/truncated.deb.error"
echo "corpus: $(ls "$root"/corpus/{xz,zstd,bzip2,lz4,deb} | wc -l) files"
