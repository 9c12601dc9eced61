// One python3 call that opens many archives with zipfile, runs testzip(), and lists each
// member as [name, kind, exec, sha256 of its bytes] (kind: file, dir, symlink), plus the
// archive's date_times. Batched to keep the suite fast.
import { run } from './helpers.js';

export interface PyMember {
  name: string;
  kind: 'file' | 'dir' | 'symlink';
  exec: boolean;
  sha: string;
  time: number[];
}
export interface PyArchive {
  ok: boolean;
  error?: string;
  members: PyMember[];
}

const SCRIPT = String.raw`
import sys, json, zipfile, hashlib, stat
out = {}
for f in sys.argv[1:]:
    try:
        z = zipfile.ZipFile(f)
        bad = z.testzip()
        ms = []
        for i in z.infolist():
            mode = i.external_attr >> 16
            kind = 'symlink' if stat.S_ISLNK(mode) else ('dir' if i.is_dir() else 'file')
            ms.append({'name': i.filename, 'kind': kind, 'exec': bool(mode & 0o111) and kind == 'file',
                       'sha': hashlib.sha256(z.read(i)).hexdigest(), 'time': list(i.date_time)})
        out[f] = {'ok': bad is None, 'members': ms}
    except Exception as e:
        out[f] = {'ok': False, 'error': repr(e), 'members': []}
print(json.dumps(out))
`;

export function pyList(files: string[]): Record<string, PyArchive> {
  if (!files.length) return {};
  return JSON.parse(run('python3', ['-c', SCRIPT, ...files]).toString());
}

/** Members as comparable "name kind exec sha" lines, sorted (order is normalized on purpose). */
export function contentOf(a: PyArchive, skip: (name: string) => boolean = () => false): string[] {
  return a.members.filter((m) => !skip(m.name)).map((m) => `${m.name} ${m.kind} ${m.exec} ${m.sha}`).sort();
}
