// The gateway needs the Docker socket, which belongs to root and the host's
// docker group, whose GID differs from host to host (and `docker stack
// deploy` has no group_add). So the container starts as root only long
// enough to learn the socket's group, then the process becomes an
// unprivileged user in that one group for the rest of its life.
import { statSync } from 'node:fs';

export interface DropResult {
  uid: number;
  gid: number;
  /** Why nothing was dropped, when nothing was. */
  skipped?: string;
}

export interface DropOptions {
  /** UID to become (the base image's "node" user). */
  uid: number;
  /** The engine socket whose group is kept; undefined when the engine is reached over TCP. */
  socketPath: string | undefined;
  /** Falls back to this GID when there is no socket to read. */
  fallbackGid: number;
}

/** The unix socket dockerode will use, from DOCKER_HOST as docker-modem reads it. */
export function dockerSocketPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const host = env.DOCKER_HOST;
  if (!host) return '/var/run/docker.sock';
  if (host.startsWith('unix://')) return host.slice('unix://'.length) || '/var/run/docker.sock';
  return undefined;
}

/** Drops root for `uid` in the socket's group. A no-op when not root. */
export function dropPrivileges(options: DropOptions): DropResult {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1, skipped: 'not running as root' };
  }
  let gid = options.fallbackGid;
  if (options.socketPath) {
    try {
      gid = statSync(options.socketPath).gid;
    } catch {
      // No socket (yet): the engine calls will fail with a clear message; run unprivileged anyway.
    }
  }
  // Group first: once the UID is dropped, the groups can no longer change.
  process.setgroups!([gid]);
  process.setgid!(gid);
  process.setuid!(options.uid);
  return { uid: process.getuid(), gid: process.getgid!() };
}
