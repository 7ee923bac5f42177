#!/usr/bin/env node
// npm run bench [-- name...]: runs the benchmark scripts bench/<name>.mjs one
// after another (all of them without names). Scripts that need a stack get
// GATEWAY_URL (and STACK_NAME): the stack in BENCH_GATEWAY_URL when given,
// else a bench stack deployed here without auth (faasbench, port 28080) and
// reused by later runs. Each script prints its table and writes
// bench/results/<name>.json; this runner collects them in bench/results/all.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const root = join(benchDir, '..');
const resultsDir = join(benchDir, 'results');
mkdirSync(resultsDir, { recursive: true });

const available = readdirSync(benchDir)
  .filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && !f.startsWith('_'))
  .map((f) => f.replace(/\.mjs$/, ''));
const requested = process.argv.slice(2);
const unknown = requested.filter((n) => !available.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
const names = requested.length ? requested : available;
// Benchmarks that run against a deployed stack (the watchdog one starts its own servers,
// the footprint and health-checks ones their own containers).
const needsStack = (name) => !['watchdog', 'footprint', 'health-checks'].includes(name);

async function healthy(url) {
  try {
    return (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function ensureStack() {
  if (process.env.BENCH_GATEWAY_URL) return { url: process.env.BENCH_GATEWAY_URL, stack: process.env.BENCH_STACK ?? 'func' };
  const stack = 'faasbench';
  const url = 'http://127.0.0.1:28080';
  if (await healthy(url)) {
    console.log(`[bench] reusing stack ${stack} at ${url}`);
    return { url, stack };
  }
  console.log(`[bench] deploying stack ${stack} at ${url} (no auth; ./deploy_stack.sh --remove with STACK_NAME=${stack} takes it down)`);
  const env = { ...process.env, STACK_NAME: stack, GATEWAY_PORT: '28080', PROMETHEUS_PORT: '29090', ALERTMANAGER_PORT: '29093', RABBITMQ_PORT: '28672' };
  // With its own RabbitMQ, its AMQP port published for bench/rabbitmq.mjs.
  const deployed = spawnSync('./deploy_stack.sh', ['--no-auth', '--with-rabbitmq', '--publish-rabbitmq'], { cwd: root, env, stdio: 'inherit' });
  if (deployed.status !== 0) throw new Error('deploying the bench stack failed');
  return { url, stack };
}

const summary = {};
let stack;
for (const name of names) {
  if (needsStack(name) && !stack) stack = await ensureStack();
  console.log(`\n=== bench ${name}`);
  const env = { ...process.env, ...(stack ? { GATEWAY_URL: stack.url, STACK_NAME: stack.stack, ...(process.env.BENCH_GATEWAY_URL ? {} : { RABBITMQ_PORT: '28672' }) } : {}) };
  const result = spawnSync(process.execPath, [join(benchDir, `${name}.mjs`)], { cwd: root, env, stdio: 'inherit' });
  const file = join(resultsDir, `${name}.json`);
  summary[name] = result.status === 0 && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { error: `exit ${result.status}` };
}
writeFileSync(join(resultsDir, 'all.json'), JSON.stringify({ at: new Date().toISOString(), results: summary }, null, 2));
console.log(`\n[bench] results in ${join('bench', 'results')}/`);
