// The builder needs the Docker socket, which belongs to root and the host's
// docker group, whose GID differs from host to host (and `docker stack
// deploy` has no group_add). So the container starts as root only long
// enough to read the payload secret and learn the socket's group, then the
// process becomes an unprivileged user in that one group (as the gateway does).
import { statSync } from 'node:fs';

/** Drops root for `uid` in the group of the socket at `socketPath`. A no-op when not root. */
export function dropPrivileges(uid: number, socketPath = '/var/run/docker.sock'): string {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root';
  let gid = uid;
  try {
    gid = statSync(socketPath).gid;
  } catch {
    // No socket: the engine calls fail with a clear message; run unprivileged anyway.
  }
  process.setgroups!([gid]);
  process.setgid!(gid);
  process.setuid!(uid);
  return `running as uid ${uid}, gid ${gid} (the engine socket's group)`;
}
