// Which leftovers are provably a dead detnorm run's own. Temp files and spill directories carry
// the creating process's PID and an 8-hex owner tag in their names; the tag is a hash of the
// machine's identity (host name, boot id, PID namespace) and that PID. A later run removes a
// leftover only when the tag is the one a process with that PID on this machine, in this boot
// and this PID namespace would write, and no process with that PID is alive: a PID from another
// host, container or boot never matches, and a live PID is never touched. Where the boot id or
// the PID namespace cannot be read (not Linux), the tag is random and nothing is ever removed.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

interface Machine {
  readonly host: string;
  readonly bootId?: string;
  readonly pidNs?: string;
}

let machine: Machine | undefined;

function readMachine(): Machine {
  let bootId: string | undefined;
  let pidNs: string | undefined;
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    bootId = undefined;
  }
  try {
    pidNs = readlinkSync('/proc/self/ns/pid');
  } catch {
    pidNs = undefined;
  }
  return { host: hostname(), ...(bootId ? { bootId } : {}), ...(pidNs ? { pidNs } : {}) };
}

function thisMachine(): Machine {
  return (machine ??= readMachine());
}

/** True when leftovers can be proved ours at all (the boot id and PID namespace are known). */
export function canProveOwnership(): boolean {
  const m = thisMachine();
  return Boolean(m.bootId && m.pidNs);
}

const randomTag = randomBytes(4).toString('hex');

/** The owner tag a process with `pid` on this machine writes into its leftovers' names. */
export function ownerTag(pid: number = process.pid): string {
  const m = thisMachine();
  if (!m.bootId || !m.pidNs) return randomTag;
  return createHash('sha256').update(`detnorm-owner\0${m.host}\0${m.bootId}\0${m.pidNs}\0${pid}`).digest('hex').slice(0, 8);
}

/** Is a process with this PID alive (in our PID namespace)? EPERM means alive, not ours. */
export function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export type Ownership = 'dead-ours' | 'live' | 'self' | 'unproven';

/** What a leftover named with `pid` and `tag` is. Only 'dead-ours' may be removed. */
export function ownership(pid: number, tag: string): Ownership {
  if (!canProveOwnership() || ownerTag(pid) !== tag) return 'unproven';
  if (pid === process.pid) return 'self';
  return pidAlive(pid) ? 'live' : 'dead-ours';
}
