// Lock ownership across processes sharing one state dir. A lock names host, pid and a
// per-process instance id; a run is dead when its lock expired, or when its owner is on this host
// and that process no longer runs (or is a previous incarnation with a reused pid).
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";

export interface LockOwner {
  host: string;
  pid: number;
  instance: string;
  id: string;
}

export function createOwner(): LockOwner {
  const host = hostname();
  const pid = process.pid;
  const instance = randomUUID().slice(0, 8);
  return { host, pid, instance, id: `${host}:${pid}:${instance}` };
}

export function parseOwner(lockedBy: string): { host: string; pid: number; instance: string } | null {
  const m = /^(.*):(\d+):([^:]+)$/.exec(lockedBy);
  return m ? { host: m[1], pid: Number(m[2]), instance: m[3] } : null;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The recovery predicate: true when the run holding this lock can no longer be alive. */
export function isDeadLock(
  self: LockOwner,
  lockedBy: string | null,
  lockExpiresAt: string | null,
  now: string,
): boolean {
  if (!lockedBy) return true;
  if (!lockExpiresAt || lockExpiresAt < now) return true;
  const o = parseOwner(lockedBy);
  if (!o) return false;
  if (o.host !== self.host) return false;
  if (o.pid === self.pid) return o.instance !== self.instance;
  return !pidAlive(o.pid);
}
