#!/usr/bin/env bash
# Build vendor/codecs/{xz,zstd,bzip2,lz4}.wasm from the exact sources of Debian 12's xz-utils,
# zstd, bzip2 and lz4 (with Debian's patches applied), with Debian 12's clang 14 and wasi-libc.
#   scripts/build-codecs.sh [OUTDIR]     (default: vendor/codecs)
# Needs: apt-get install clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 dpkg-dev, and a
# deb-src line for bookworm (apt-get source). CODEC_SRC=DIR reuses sources already fetched there.
# The source packages are checked against vendor/codecs/SOURCES (sha256 of every file the .dsc
# names) before anything is built. The output depends only on those sources and this script:
# no paths, dates or debug information end up in the modules.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$root/vendor/codecs}" && cd "${1:-$root/vendor/codecs}" && pwd)
glue=$root/vendor/codecs/glue
CC=${CC:-clang-14}

src=${CODEC_SRC:-}
if [ -z "$src" ]; then
  src=$(mktemp -d "${TMPDIR:-/tmp}/detnorm-codecs.XXXXXX")
  trap 'rm -rf "$src"' EXIT
fi
cd "$src"
# Fetch (unless present) and check every file of the four source packages.
for pv in xz-utils=5.4.1-1+deb12u1 zstd=1.5.4+dfsg2-5 bzip2=1.0.8-5 lz4=1.9.4-1; do
  ls "${pv%%=*}"_*.dsc "lib${pv%%=*}"_*.dsc >/dev/null 2>&1 || apt-get source --download-only "$pv" >/dev/null 2>&1 || true
done
grep -v '^#' "$root/vendor/codecs/SOURCES" | sha256sum -c --quiet - || { echo "build-codecs: the source packages are missing or not the expected bytes" >&2; exit 1; }
for dsc in xz-utils_*.dsc libzstd_*.dsc bzip2_*.dsc lz4_*.dsc; do
  dir=$(sed -n 's/^Source: //p' "$dsc")-$(sed -n 's/^Version: //p' "$dsc" | sed 's/^[0-9]*://; s/-[^-]*$//')
  [ -d "$dir" ] || dpkg-source --no-check -x "$dsc" "$dir" >/dev/null
done
xz=$(ls -d xz-utils-*/)
zstd=$(ls -d libzstd-*/)
bz=$(ls -d bzip2-*/)
lz4=$(ls -d lz4-*/)

# Common flags: wasm32 without SIMD or threads, no debug info, the source directory mapped away.
CFLAGS=(--target=wasm32-wasi --sysroot=/usr -O2 -DNDEBUG -g0 -ffile-prefix-map="$src"=. -ffile-prefix-map="$root"=.)
LDFLAGS=(-nostartfiles -Wl,--no-entry -Wl,--strip-all -Wl,-z,stack-size=1048576 -Wl,--max-memory=4294967296)
build() { # name, then sources and flags
  local name=$1
  shift
  "$CC" "${CFLAGS[@]}" "$@" "${LDFLAGS[@]}" -o "$out/$name.wasm"
  echo "build-codecs: $out/$name.wasm $(wc -c < "$out/$name.wasm") bytes"
}

# liblzma: the files configure picks for a build without threads and without assembler.
L=$xz/src/liblzma
lzma_src=$(ls $L/common/*.c $L/check/*.c $L/lz/*.c $L/lzma/*.c $L/rangecoder/*.c $L/delta/*.c $L/simple/*.c |
  grep -Ev '/(stream_encoder_mt|stream_decoder_mt|outqueue|hardware_cputhreads|hardware_physmem|crc32_small|crc64_small|crc32_tablegen|crc64_tablegen|fastpos_tablegen|price_tablegen)\.c$')
lzma_defs=(-DHAVE_STDBOOL_H -DHAVE__BOOL -DHAVE_STDINT_H -DHAVE_INTTYPES_H -DSIZEOF_SIZE_T=4 -DHAVE_VISIBILITY=0
  -DHAVE_CHECK_CRC32 -DHAVE_CHECK_CRC64 -DHAVE_CHECK_SHA256 -DHAVE_ENCODERS -DHAVE_DECODERS
  -DHAVE_MF_HC3 -DHAVE_MF_HC4 -DHAVE_MF_BT2 -DHAVE_MF_BT3 -DHAVE_MF_BT4 -DASSUME_RAM=128 -D_WASI_EMULATED_SIGNAL -include "$glue/xz-wasi.h")
for f in LZMA1 LZMA2 X86 POWERPC IA64 ARM ARMTHUMB ARM64 SPARC DELTA; do lzma_defs+=(-DHAVE_ENCODER_$f -DHAVE_DECODER_$f); done
build xz "${lzma_defs[@]}" -I"$L/api" -I"$L/common" -I"$L/check" -I"$L/lz" -I"$L/lzma" -I"$L/rangecoder" -I"$L/delta" -I"$L/simple" -I"$xz/src/common" \
  $lzma_src "$glue/xz.c"

# zstd: compressor with ZSTD_MULTITHREAD (the CLI's one-worker output), jobs run in line.
Z=$zstd/lib
zstd_src=$(ls $Z/common/*.c $Z/compress/*.c $Z/decompress/*.c | grep -v '/pool\.c$')
zdefs=(-include "$glue/zstd-sync-threads.h" -DZSTD_DISABLE_ASM -DZSTD_LEGACY_SUPPORT=0 -DXXH_NAMESPACE=ZSTD_ -I"$Z" -I"$Z/common")
obj=$(mktemp -d "${TMPDIR:-/tmp}/detnorm-codecs-obj.XXXXXX")
"$CC" "${CFLAGS[@]}" "${zdefs[@]}" -c "$Z/common/pool.c" -o "$obj/pool.o"
build zstd "${zdefs[@]}" -DZSTD_MULTITHREAD $zstd_src "$glue/zstd.c" "$obj/pool.o"
rm -rf "$obj"

# bzip2: the library only, no stdio.
build bzip2 -DBZ_NO_STDIO -I"$bz" "$bz"/blocksort.c "$bz"/huffman.c "$bz"/crctable.c "$bz"/randtable.c "$bz"/compress.c "$bz"/decompress.c "$bz"/bzlib.c "$glue/bzip2.c"

# lz4: block, HC and frame APIs.
build lz4 -I"$lz4/lib" "$lz4"/lib/lz4.c "$lz4"/lib/lz4hc.c "$lz4"/lib/lz4frame.c "$lz4"/lib/xxhash.c "$glue/lz4.c"
(cd "$out" && sha256sum xz.wasm zstd.wasm bzip2.wasm lz4.wasm)
