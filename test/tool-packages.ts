// Which Debian 12 package brings each tool the tests run (every package is in .ci/run's
// apt-get install line; test/ci-packages.test.ts checks both directions of that promise).
// The missing-tools message at the end of `npm test` (test/missing-tools-reporter.ts) turns
// the tools a run lacked into one `apt-get install` line with these names.
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ar: 'binutils',
  nm: 'binutils',
  objcopy: 'binutils',
  objdump: 'binutils',
  readelf: 'binutils',
  'ld.bfd': 'binutils',
  'ld.gold': 'binutils-gold',
  'ld.lld': 'lld',
  gcc: 'gcc',
  's390x-linux-gnu-gcc-12': 'gcc-12-s390x-linux-gnu',
  'powerpc-linux-gnu-gcc-12': 'gcc-12-powerpc-linux-gnu',
  gdb: 'gdb',
  'llvm-ar': 'llvm',
  'llvm-nm': 'llvm',
  gzip: 'gzip',
  bzip2: 'bzip2',
  xz: 'xz-utils',
  zstd: 'zstd',
  tar: 'tar',
  cpio: 'cpio',
  zip: 'zip',
  unzip: 'unzip',
  zipinfo: 'unzip',
  zipalign: 'zipalign',
  'dpkg-deb': 'dpkg',
  setpriv: 'util-linux',
  script: 'bsdutils',
  java: 'default-jdk-headless',
  javac: 'default-jdk-headless',
  jar: 'default-jdk-headless',
  jarsigner: 'default-jdk-headless',
  javadoc: 'default-jdk-headless',
  jmod: 'default-jdk-headless',
  python3: 'python3',
  'python3 -m wheel': 'python3-wheel',
  pngcheck: 'pngcheck',
  msgfmt: 'gettext',
  msgunfmt: 'gettext',
  mkimage: 'u-boot-tools',
  bazel: 'bazel-bootstrap',
  skopeo: 'skopeo',
  umoci: 'umoci',
};

/** Tools no apt package of .ci/run brings (the test run itself needs them). */
export const NOT_APT: Readonly<Record<string, string>> = {
  node: 'Node.js >= 20 (it runs the tests)',
};
