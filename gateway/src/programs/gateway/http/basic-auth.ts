// Basic auth for /system/* and /ui, with the credentials read from Docker
// secrets at start-up. Compared in constant time (on SHA-256 digests, so
// lengths do not leak either). Credentials are never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Credentials {
  user: string;
  password: string;
}

export async function readCredentials(secretMountPath: string): Promise<Credentials> {
  const read = async (file: string) => {
    const path = join(secretMountPath, file);
    try {
      return (await readFile(path, 'utf8')).trim();
    } catch (error) {
      throw new Error(`BASIC_AUTH=true but ${path} cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
  };
  const user = await read('basic-auth-user');
  const password = await read('basic-auth-password');
  if (!user || !password) throw new Error(`BASIC_AUTH=true but the user or password in ${secretMountPath} is empty`);
  return { user, password };
}

const digest = (text: string) => createHash('sha256').update(text).digest();

export class BasicAuthChecker {
  private readonly expectedUser: Buffer;
  private readonly expectedPassword: Buffer;

  constructor(credentials: Credentials) {
    this.expectedUser = digest(credentials.user);
    this.expectedPassword = digest(credentials.password);
  }

  /** True when the Authorization header carries the right user and password. */
  check(authorization: string | undefined): boolean {
    if (!authorization) return false;
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
    if (!match) return false;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const userOk = timingSafeEqual(digest(decoded.slice(0, colon)), this.expectedUser);
    const passwordOk = timingSafeEqual(digest(decoded.slice(colon + 1)), this.expectedPassword);
    return userOk && passwordOk;
  }
}
