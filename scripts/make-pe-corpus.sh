#!/bin/sh
# Rebuild the inputs of corpus/pe/ (see corpus/pe/README.md) with Debian 12's clang 14, lld 14,
# llvm 14 and mingw-w64 gcc 12, from sources compiled in /tmp/detnorm-corpus/src so that the
# .json files' --map-path /tmp/detnorm-corpus=/build/src applies. Then, for the golden outputs:
#   npx tsx scripts/make-golden.ts corpus/pe/<case> ...
# and check them by hand and with llvm-readobj, llvm-dwarfdump --verify and pefile.
set -eu
OUT=$(cd "$(dirname "$0")/../corpus/pe" && pwd)
W=/tmp/detnorm-corpus
rm -rf "$W"; mkdir -p "$W/src"; cd "$W/src"

cat > prog.c <<'EOF'
__declspec(dllimport) void __stdcall ExitProcess(unsigned);
__declspec(dllimport) void *__stdcall GetStdHandle(unsigned);
__declspec(dllimport) int __stdcall WriteFile(void *, const void *, unsigned, unsigned *, void *);
void start(void) {
  unsigned n;
  WriteFile(GetStdHandle((unsigned)-11), "hello\n", 6, &n, 0);
  ExitProcess(0);
}
EOF
printf 'LIBRARY kernel32.dll\nEXPORTS\nExitProcess\nGetStdHandle\nWriteFile\n' > kernel32.def
printf 'LIBRARY lib.dll\nEXPORTS\nlib_twice\n' > lib.def
printf 'int lib_twice(int x) { return 2 * x; }\n' > lib.c
printf 'STRINGTABLE\nBEGIN\n  1 "hello"\nEND\n' > lib.rc
printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' > hello.c

llvm-dlltool -m i386:x86-64 -d kernel32.def -l kernel32.lib
clang --target=x86_64-pc-windows-msvc -O1 -c prog.c -o prog.obj
clang --target=x86_64-pc-windows-msvc -O1 -g -gdwarf -c "$W/src/prog.c" -o "$OUT/clang-dwarf.obj"
# lld-link /Brepro: already canonical.
lld-link /machine:x64 /entry:start /subsystem:console /nodefaultlib prog.obj kernel32.lib /out:"$OUT/brepro.exe" /Brepro
# A real clock, DWARF in the image (/debug:dwarf), a PDB path: stamps, GUID, path.
clang --target=x86_64-pc-windows-msvc -O1 -g -gdwarf -c "$W/src/prog.c" -o progd.obj
lld-link /machine:x64 /entry:start /subsystem:console /nodefaultlib progd.obj kernel32.lib /out:"$OUT/dwarf-pdbpath.exe" \
  /timestamp:1700000000 /debug:dwarf /debug /pdb:"$W/src/prog.pdb" /pdbaltpath:"$W/src/prog.pdb"
rm -f prog.pdb
# GNU ld with its clock, its CheckSum, no debug information (-s).
SOURCE_DATE_EPOCH=1700000000 x86_64-w64-mingw32-gcc -O2 -s -o "$OUT/mingw-stripped.exe" hello.c
# A DLL with resources; then its resource tree made to point back at its root.
llvm-rc /fo lib.res lib.rc
clang --target=x86_64-pc-windows-msvc -O1 -c lib.c -o lib.obj
lld-link /machine:x64 /dll /noentry /nodefaultlib /def:lib.def lib.obj lib.res /out:lib.dll /Brepro
python3 - lib.dll "$OUT/resource-cycle.dll" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
pe = struct.unpack_from('<I', d, 0x3c)[0]
opt = pe + 24
rva = struct.unpack_from('<I', d, opt + 112 + 2 * 8)[0]
nsec = struct.unpack_from('<H', d, pe + 6)[0]
table = opt + struct.unpack_from('<H', d, pe + 20)[0]
for i in range(nsec):
    o = table + 40 * i
    va, size, ptr = struct.unpack_from('<I', d, o + 12)[0], struct.unpack_from('<I', d, o + 16)[0], struct.unpack_from('<I', d, o + 20)[0]
    if va <= rva < va + size:
        root = ptr + rva - va
# The root's first entry leads to a subdirectory: point it at the root itself.
struct.pack_into('<I', d, root + 16 + 4, 0x80000000)
open(sys.argv[2], 'wb').write(d)
EOF
# A short import member (as link.exe's lib writes one, with a time stamp).
llvm-dlltool -m i386:x86-64 -d lib.def -l lib.lib
python3 - lib.lib "$OUT/import-member.dll" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
pos = 8
while pos + 60 <= len(d):
    size = int(d[pos + 48:pos + 58])
    data = d[pos + 60:pos + 60 + size]
    if data[:4] == b'\0\0\xff\xff':
        m = bytearray(data)
        struct.pack_into('<I', m, 8, 1700000000)
        open(sys.argv[2], 'wb').write(m)
        break
    pos += 60 + size + (size & 1)
EOF
# Malformed: truncated, a section table past the end, overlapping sections.
head -c 1500 "$OUT/brepro.exe" > "$OUT/truncated.exe"
python3 - "$OUT/brepro.exe" "$OUT" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
pe = struct.unpack_from('<I', d, 0x3c)[0]
table = pe + 24 + struct.unpack_from('<H', d, pe + 20)[0]
a = bytearray(d); struct.pack_into('<H', a, pe + 6, 4000)
open(sys.argv[2] + '/table-past-end.exe', 'wb').write(a)
b = bytearray(d); struct.pack_into('<I', b, table + 40 + 20, struct.unpack_from('<I', d, table + 20)[0] + 8)
open(sys.argv[2] + '/overlap.exe', 'wb').write(b)
EOF
rm -rf "$W"
