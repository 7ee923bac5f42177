#!/usr/bin/env node
// What the engine's HEALTHCHECKs of idle function tasks cost the node: every
// check is an exec in the container (dockerd, containerd, a runc and a shell),
// however small its command. Runs HEALTH_TASKS [30] idle function containers
// (echoit) with the check every 2 s (the interval readiness once depended
// on), every 10 s (the watchdog image's now), every 30 s, and none, and measures
// the node's CPU (all of /proc/stat: the engine's work is outside the
// containers) and load average over HEALTH_SECONDS [60] for each.
//
//   node bench/health-checks.mjs     (FAAS_REPO, FAAS_TAG: which image [swarmfaas, package version])
//
// Containers run with `docker run` and are removed at the end. Writes
// bench/results/health-checks.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { docker, root, sleep, version } from './_support.mjs';

const image = `${process.env.FAAS_REPO || 'swarmfaas'}/echoit:${process.env.FAAS_TAG || version}`;
const tasks = Number(process.env.HEALTH_TASKS ?? 30);
const seconds = Number(process.env.HEALTH_SECONDS ?? 60);

/** Jiffies busy and in total, over every CPU of the node. */
function cpuTimes() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4]; // idle + iowait
  const total = fields.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

const loadAverage = () => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);

async function measure(label, healthArgs) {
  const names = Array.from({ length: tasks }, (_, i) => `health-bench-${process.pid}-${i}`);
  try {
    for (const name of names) await docker('run', '-d', '--name', name, ...healthArgs, image);
    await sleep(10_000); // started, first checks done
    const before = cpuTimes();
    const loads = [];
    for (let s = 0; s < seconds; s += 5) {
      await sleep(5000);
      loads.push(loadAverage());
    }
    const after = cpuTimes();
    const busyShare = (after.busy - before.busy) / (after.total - before.total);
    return { case: label, tasks, seconds, cpuBusyPercent: Math.round(busyShare * 1000) / 10, coresBusy: Math.round(busyShare * cpus().length * 100) / 100, loadAverageLast: loads.at(-1) };
  } finally {
    await docker('rm', '-f', ...names).catch(() => undefined);
  }
}

const results = [];
for (const [label, args] of [
  ['check every 2 s', ['--health-interval', '2s']],
  ['check every 10 s', ['--health-interval', '10s']],
  ['check every 30 s', ['--health-interval', '30s']],
  ['no check', ['--no-healthcheck']],
]) {
  const result = await measure(label, args);
  console.log(JSON.stringify(result));
  results.push(result);
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'health-checks.json'), `${JSON.stringify({ image, cores: cpus().length, results }, null, 2)}\n`);
