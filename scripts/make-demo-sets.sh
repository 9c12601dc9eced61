#!/usr/bin/env bash
# Makes corpus/demo/build-a and corpus/demo/build-b: the same release built twice by real tools,
# in two checkout directories (/tmp/detnorm-demo/build-a/src and .../build-b/src), at different
# times, by different owners, with different umasks and file creation orders.
# Run once by hand as root (for chown); the results are committed as the demo's data, and
# scripts/demo.mjs shows detnorm making each pair identical.
# Usage: scripts/make-demo-sets.sh [OUTDIR]   (default: corpus/demo)
set -euo pipefail
out=$(realpath -m "${1:-corpus/demo}")
export PYTHONDONTWRITEBYTECODE=

write_source() { # DIR ORDER USER: the same files, created in the given order
  local d=$1 order=$2 user=$3 files
  mkdir -p "$d/bin" "$d/lib" "$d/doc" "$d/hello" "$d/java" "$d/META-INF"
  files=(bin/hello lib/answer.c lib/twice.c main.c java/Hello.java doc/README hello/__init__.py hello/greet.py)
  [ "$order" = reverse ] && files=(hello/greet.py hello/__init__.py doc/README java/Hello.java main.c lib/twice.c lib/answer.c bin/hello)
  for f in "${files[@]}"; do
    case $f in
      bin/hello) printf '#!/bin/sh\necho hello from the detnorm demo\n' > "$d/$f"; chmod +x "$d/$f" ;;
      lib/answer.c) printf 'int answer(void) { return 42; }\n' > "$d/$f" ;;
      lib/twice.c) printf 'int twice(int x) { return 2 * x; }\n' > "$d/$f" ;;
      main.c) printf '#include <stdio.h>\nint answer(void);\nint twice(int);\nint main(void) { printf("hello from the detnorm demo: answer() = %%d, twice(21) = %%d\\n", answer(), twice(21)); return 0; }\n' > "$d/$f" ;;
      java/Hello.java) printf 'public class Hello {\n  public static void main(String[] args) { System.out.println("hello from the detnorm demo (java)"); }\n}\n' > "$d/$f" ;;
      doc/README) for i in $(seq 1 40); do echo "detnorm demo package, line $i"; done > "$d/$f" ;;
      hello/__init__.py) printf '"""Demo package."""\nfrom .greet import greet\n' > "$d/$f" ;;
      hello/greet.py) printf 'def greet(name):\n    return f"hello, {name}"\n' > "$d/$f" ;;
    esac
  done
  printf 'Manifest-Version: 1.0\nMain-Class: Hello\nCreated-By: detnorm demo\nBuilt-By: %s\n' "$user" > "$d/META-INF/MANIFEST.MF"
}

build() { # NAME DATE UID UMASK ORDER USER
  local name=$1 date=$2 uid=$3 mask=$4 order=$5 user=$6
  local root=/tmp/detnorm-demo/$name dest=$out/$name
  rm -rf "$root" "$dest"
  mkdir -p "$root" "$dest"
  (
    umask "$mask"
    cd "$root"
    write_source src "$order" "$user"
    cd src
    # ELF: a static library and a shared library with debug info (the build path is in DWARF).
    gcc -g -O2 -c lib/answer.c lib/twice.c
    ar rcU "$dest/libdemo.a" $( [ "$order" = reverse ] && echo "answer.o twice.o" || echo "answer.o twice.o" )
    gcc -g -O2 -shared -fPIC -o "$dest/libdemo.so" lib/answer.c lib/twice.c
    # A program (the demo runs it): DWARF and the build-id hold the checkout path.
    gcc -g -O2 -o "$dest/hello" main.c lib/answer.c lib/twice.c
    # Java class for the runnable jar.
    javac -d classes java/Hello.java
    # pyc: compiled in place (co_filename holds the checkout path).
    python3 -m compileall -q "$PWD/hello"
    find . -exec touch -h -d "$date" {} +
    chown -R "$uid:$uid" .
    # gzip with the file name and mtime in its header; Python's gzip (OS=255, mtime).
    gzip -9 -c doc/README > "$dest/README.gz"
    python3 -c "import gzip,sys; open(sys.argv[1],'wb').write(gzip.compress(open('doc/README','rb').read(), 6, mtime=int(sys.argv[2])))" "$dest/notes.gz" "$(date -d "$date" +%s)"
    # zip (Info-ZIP: UT and ux extras, local times), member order from the file system walk.
    TZ=$( [ "$order" = reverse ] && echo America/New_York || echo Europe/Berlin ) zip -q -r "$dest/release.zip" $( [ "$order" = reverse ] && echo "hello doc bin" || echo "bin doc hello" ) -x '*__pycache__*'
    # jar (JDK: data descriptors, 0xCAFE extra, MANIFEST with Built-By), runnable: java -jar.
    jar cfm "$dest/app.jar" META-INF/MANIFEST.MF -C classes Hello.class $( [ "$order" = reverse ] && echo "hello doc" || echo "doc hello" )
    # wheel-like zip of the package with its pycs, written by Python's zipfile (local time).
    python3 - "$dest/hello-1.0-py3-none-any.whl" <<'PY'
import sys, zipfile, os, hashlib, base64
files = []
for d, _, fs in os.walk('hello'):
    for f in fs:
        files.append(os.path.join(d, f))
rec = []
with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
    for f in files:
        data = open(f, 'rb').read()
        z.write(f)
        h = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
        rec.append(f'{f},sha256={h},{len(data)}')
    meta = 'Metadata-Version: 2.1\nName: hello\nVersion: 1.0\n'
    wheel = 'Wheel-Version: 1.0\nGenerator: demo\nRoot-Is-Purelib: true\nTag: py3-none-any\n'
    for n, t in (('hello-1.0.dist-info/METADATA', meta), ('hello-1.0.dist-info/WHEEL', wheel)):
        z.writestr(n, t)
        h = base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b'=').decode()
        rec.append(f'{n},sha256={h},{len(t)}')
    rec.append('hello-1.0.dist-info/RECORD,,')
    z.writestr('hello-1.0.dist-info/RECORD', '\n'.join(rec) + '\n')
PY
    # tar.gz (GNU tar, gnu format, owners and times of the build, gzip header with mtime).
    tar --format=gnu -cf - bin doc hello lib | gzip -6 > "$dest/release.tar.gz"
  )
  touch -d "$date" "$dest"/*
}
build build-a "2024-03-01 10:00:00 UTC" 1000 022 forward alice
build build-b "2025-07-15 18:30:00 UTC" 1234 002 reverse bob
echo "made $out/build-a and $out/build-b from /tmp/detnorm-demo/build-{a,b}/src"
