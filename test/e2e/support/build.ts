// Helpers of the builder suites: the real faas-cli in a throwaway folder, and
// this repository's templates served the way `faas-cli template pull` reads a
// repository (git over plain HTTP, from a server on 127.0.0.1 the test owns).
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { gatewayUrl } from './gateway.js';

const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export const CLI = process.env.FAAS_CLI ?? '';

export interface CliResult {
  code: number;
  out: string;
}

/** A folder a user works in: HOME for faas-cli's login, the payload secret in payload.txt. */
export class Workspace {
  readonly dir = mkdtempSync(join(tmpdir(), 'faas-build-'));
  readonly payloadFile = join(this.dir, 'payload.txt');

  constructor() {
    if (!CLI || !existsSync(CLI)) {
      // Never skipped silently: without the CLI this suite cannot say `faas-cli up` works.
      throw new Error(`FAAS_CLI must name the faas-cli binary (got "${CLI}"): .ci/run sets it to ../shared/reference/faas-cli`);
    }
    writeFileSync(this.payloadFile, `${inject('payloadSecret')}\n`);
  }

  cli(args: string[], timeoutMs = 240_000): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile(CLI, args, { cwd: this.dir, env: { ...process.env, HOME: this.dir, OPENFAAS_CONFIG: join(this.dir, '.openfaas'), CI: 'true' }, timeout: timeoutMs, maxBuffer: 20_000_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }),
      );
    });
  }

  async login(): Promise<void> {
    const [user, password] = inject('credentials').split(':') as [string, string];
    const child = execFile(CLI, ['login', '-g', gatewayUrl(), '-u', user, '--password-stdin'], { cwd: this.dir, env: { ...process.env, HOME: this.dir, OPENFAAS_CONFIG: join(this.dir, '.openfaas') } });
    child.stdin!.end(password);
    await new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`faas-cli login exited ${code}`)))));
  }

  /** `faas-cli up --remote-builder <gateway>/system/build --payload-secret payload.txt` for the functions of stack.yaml (or one with --filter). */
  up(extra: string[] = []): Promise<CliResult> {
    return this.cli(['up', '-f', 'stack.yaml', '--remote-builder', gatewayUrl('/system/build'), '--payload-secret', this.payloadFile, '-g', gatewayUrl(), ...extra]);
  }

  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  read(...parts: string[]): string {
    return readFileSync(this.path(...parts), 'utf8');
  }

  write(relative: string, text: string): void {
    writeFileSync(this.path(relative), text);
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * This working tree's template/ folder as a git repository served over HTTP
 * by git's own smart-HTTP server (git http-backend, as CGI): what
 * `faas-cli template pull <url>` clones (`git clone --depth=1`, which the
 * plain "dumb" protocol cannot serve). Made fresh from the files, so it needs
 * no git checkout of the project.
 */
export async function serveTemplates(): Promise<{ url: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'templates-repo-'));
  const work = join(dir, 'work');
  cpSync(join(repoRoot, 'template'), join(work, 'template'), { recursive: true });
  const git = (args: string[], cwd: string) => run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'init.defaultBranch=master', ...args], { cwd });
  await git(['init', '-q'], work);
  await git(['add', '.'], work);
  await git(['commit', '-qm', 'templates'], work);
  await git(['clone', '-q', '--bare', work, join(dir, 'templates.git')], dir);
  const server: Server = createServer((req, res) => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH ?? '',
        GIT_PROJECT_ROOT: dir,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(path),
        QUERY_STRING: query,
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    // CGI: header lines, a blank line, then the body.
    let head = Buffer.alloc(0);
    let started = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (started) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      started = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => res.end());
    cgi.on('error', () => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/templates.git`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The NDJSON objects of a build answer. */
export function buildObjects(text: string): { log: string[]; image: string; status: string; duration: number; error?: string }[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { log: string[]; image: string; status: string; duration: number; error?: string });
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
