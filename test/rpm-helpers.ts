// rpmbuild fixtures for test/rpm.test.ts and test/slow/rpm-e2e.slow.test.ts: a spec and its
// sources written into a directory, built with rpmbuild (Debian 12's rpm 4.18) under a given
// _topdir, host name, umask, environment and file creation order.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A noarch package: a script, a text file with a hard link, a symlink, a directory. */
export const TINY_SPEC = `Name: tiny
Version: 1.0
Release: 1
Summary: detnorm test package
License: MIT
BuildArch: noarch
%description
test
%install
mkdir -p %{buildroot}/usr/share/tiny %{buildroot}/usr/bin
for f in \${TINY_ORDER:-a b c}; do printf "$f\\n" > %{buildroot}/usr/share/tiny/$f.txt; done
printf '#!/bin/sh\\necho tiny\\n' > %{buildroot}/usr/bin/tiny
chmod 755 %{buildroot}/usr/bin/tiny
ln %{buildroot}/usr/share/tiny/a.txt %{buildroot}/usr/share/tiny/a-link.txt
ln -s a.txt %{buildroot}/usr/share/tiny/sym.txt
%files
/usr/bin/tiny
/usr/share/tiny
`;

/**
 * A binary (gcc -g), a Python module with its pyc, a jar, and the -debuginfo subpackage
 * (find-debuginfo from debugedit, enabled with %debug_package).
 */
export const FULL_SPEC = `Name: dnt
Version: 1.0
Release: 1
Summary: detnorm test
License: MIT
%description
test
%debug_package
%prep
%setup -q -c -T
for f in \${DNT_ORDER:-hello.c mod.py Hi.java}; do cp %{_sourcedir}/$f .; done
%build
gcc -g -O1 -o hello hello.c
mkdir -p j && javac -d j Hi.java && jar cf hi.jar -C j .
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/usr/lib/python3/dist-packages/dnt %{buildroot}/usr/share/java
install -m 755 hello %{buildroot}/usr/bin/hello
cp mod.py %{buildroot}/usr/lib/python3/dist-packages/dnt/mod.py
python3 -m compileall -q %{buildroot}/usr/lib/python3/dist-packages/dnt
cp hi.jar %{buildroot}/usr/share/java/hi.jar
%files
/usr/bin/hello
/usr/lib/python3/dist-packages/dnt
/usr/share/java/hi.jar
`;

export const FULL_SOURCES: Record<string, string> = {
  'hello.c': '#include <stdio.h>\nint main(void) { puts("hello rpm"); return 0; }\n',
  'mod.py': 'def f():\n    return {"a": 1, "b": (1, 2)}\n',
  'Hi.java': 'public class Hi { public static void main(String[] a) { System.out.println("hi"); } }\n',
};

export interface Build {
  readonly topdir: string;
  readonly host: string;
  /** Shell umask for rpmbuild (its scripts set 022 themselves). */
  readonly umask?: string;
  /** Extra environment (SOURCE_DATE_EPOCH, TINY_ORDER / DNT_ORDER for the creation order). */
  readonly env?: Record<string, string>;
  /** Extra --define arguments ("use_source_date_epoch_as_buildtime 1"). */
  readonly defines?: readonly string[];
  /** rpmbuild's mode: -bb (default), -bs, -ba. */
  readonly mode?: '-bb' | '-bs' | '-ba';
}

/** Build `spec` with `sources`; returns the paths of the packages written, by base name. */
export function rpmbuild(spec: string, sources: Record<string, string>, b: Build): Map<string, string> {
  const src = join(b.topdir, 'SOURCES');
  mkdirSync(src, { recursive: true });
  for (const [n, text] of Object.entries(sources)) writeFileSync(join(src, n), text);
  const specFile = join(b.topdir, 'pkg.spec');
  writeFileSync(specFile, spec);
  const env: NodeJS.ProcessEnv = { ...process.env, ...b.env };
  if (!b.env?.SOURCE_DATE_EPOCH) delete env.SOURCE_DATE_EPOCH;
  const defines = [`_topdir ${b.topdir}`, `_buildhost ${b.host}`, ...(b.defines ?? [])].flatMap((d) => ['--define', d]);
  const args = [b.mode ?? '-bb', '--nodeps', ...defines, specFile];
  const cmd = `umask ${b.umask ?? '022'} && exec rpmbuild "$@"`;
  execFileSync('sh', ['-c', cmd, 'sh', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  const out = new Map<string, string>();
  for (const sub of ['RPMS/noarch', 'RPMS/x86_64', 'SRPMS']) {
    const dir = join(b.topdir, sub);
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) out.set(n, join(dir, n));
  }
  return out;
}

/**
 * Two C programs and the -debuginfo subpackage (find-debuginfo): the build-id rule of
 * formats/rpm/buildid.ts, where new ids may sort the .build-id entries otherwise.
 * BID_TAG changes the programs' text (another build-id, as another compiler run would give).
 */
export const PAIR_SPEC = `Name: bidp
Version: 1.0
Release: 1
Summary: detnorm build-id test
License: MIT
%description
test
%debug_package
%prep
%setup -q -c -T
cp %{_sourcedir}/one.c %{_sourcedir}/two.c .
%build
gcc -g -O1 -o one one.c
gcc -g -O1 -o two two.c
%install
mkdir -p %{buildroot}/usr/bin
install -m 755 one two %{buildroot}/usr/bin/
%files
/usr/bin/one
/usr/bin/two
`;

export const PAIR_SOURCES: Record<string, string> = {
  'one.c': '#include <stdio.h>\nint main(void) { puts("one"); return 0; }\n',
  'two.c': '#include <stdio.h>\nint main(int c, char **v) { printf("two %d\\n", c); return 0; }\n',
};
