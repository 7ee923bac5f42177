// A real RabbitMQ for the RabbitMQ trigger's tests, started from Debian's
// rabbitmq-server package (what the stack's stand-in image is made of; `npm
// test` and .ci/run install it) on free ports with a store of its own, the
// management plugin on and its statistics every 500 ms as the stack's broker
// has them. Never a fake: these tests are about what the broker does.
// RABBITMQ_TEST_URL (+ RABBITMQ_TEST_MANAGEMENT_URL) points them at a broker
// already running instead (a faster loop while developing).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface RabbitServer {
  /** amqp://127.0.0.1:port/ (no credentials: they are `username`, `password`). */
  url: string;
  managementUrl: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

const SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';

/** RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)). */
export function passwordHash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash('sha256').update(Buffer.concat([salt, Buffer.from(password)])).digest()]).toString('base64');
}

async function answers(managementUrl: string, username: string, password: string): Promise<boolean> {
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  return fetch(`${managementUrl}/api/overview`, { headers: { authorization: auth }, signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
}

export async function startRabbit(): Promise<RabbitServer> {
  if (process.env.RABBITMQ_TEST_URL) {
    const url = new URL(process.env.RABBITMQ_TEST_URL);
    const username = decodeURIComponent(url.username) || 'guest';
    const password = decodeURIComponent(url.password) || 'guest';
    url.username = '';
    url.password = '';
    return { url: url.toString(), managementUrl: process.env.RABBITMQ_TEST_MANAGEMENT_URL ?? `http://${url.hostname}:15672`, username, password, stop: async () => undefined };
  }
  if (!existsSync(SERVER) || spawnSync('erl', ['-version']).error) {
    throw new Error(`${SERVER} (and erl) are missing: these tests run a real RabbitMQ (Debian: apt-get install rabbitmq-server; npm test installs it)`);
  }
  const [port, managementPort, distPort] = [await freePort(), await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'rabbitmq-test-'));
  const username = 'faas';
  const password = randomBytes(12).toString('hex');
  writeFileSync(
    join(dir, 'rabbitmq.conf'),
    [
      `listeners.tcp.default = 127.0.0.1:${port}`,
      `management.tcp.port = ${managementPort}`,
      'management.tcp.ip = 127.0.0.1',
      'collect_statistics_interval = 500',
      'loopback_users = none',
      'definitions.import_backend = local_filesystem',
      `definitions.local.path = ${join(dir, 'definitions.json')}`,
      // A small machine shared with other tests: no disk or memory alarm from its neighbours' use.
      'disk_free_limit.absolute = 10MB',
      'vm_memory_high_watermark.relative = 0.8',
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'definitions.json'),
    JSON.stringify({
      users: [{ name: username, password_hash: passwordHash(password), hashing_algorithm: 'rabbit_password_hashing_sha256', tags: ['administrator'] }],
      vhosts: [{ name: '/' }],
      permissions: [{ user: username, vhost: '/', configure: '.*', write: '.*', read: '.*' }],
    }),
  );
  writeFileSync(join(dir, 'enabled_plugins'), '[rabbitmq_management].\n');
  const env = {
    ...process.env,
    HOME: dir,
    RABBITMQ_NODENAME: `faastest${port}@localhost`,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, 'plugins-expand'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
  };
  // Its own process group: stop() ends the Erlang VM and what it started (not the shared epmd, which outlives it by design).
  const child: ChildProcess = spawn(SERVER, [], { env, cwd: dir, stdio: 'ignore', detached: true });
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Erlang boots slowly on a busy machine: up to 4 minutes.
  const deadline = Date.now() + 240_000;
  while (!(await answers(managementUrl, username, password))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`rabbitmq-server did not start (exit ${child.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url: `amqp://127.0.0.1:${port}/`, managementUrl, username, password, stop };
}
