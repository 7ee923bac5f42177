/**
 * The watchdog's settings, read from the environment (names as in the 2017
 * watchdog and its later HTTP mode). Every value is validated up front: a
 * wrong value stops start-up with a message naming the variable, instead of
 * a function that misbehaves at its first request.
 */
import { splitCommandLine, CommandLineError } from './command-line.js';
import { parseDurationMs } from '@swarm-faas/duration';

export type Mode = 'classic' | 'http' | 'module';

/** Module mode's handler when `module` is not set: the node template's place for it. */
const DEFAULT_MODULE = '/home/app/function/handler.js';

export interface WatchdogConfig {
  mode: Mode;
  /** fprocess split into argv (no shell); empty in module mode, which runs no process. */
  command: string[];
  /** Module mode: the ES module whose default export handles each request, in the watchdog's own process. */
  modulePath: string | undefined;
  /** HTTP mode: where the long-running process listens. */
  upstreamUrl: URL | undefined;
  readTimeoutMs: number;
  writeTimeoutMs: number;
  /** 0 = no limit. */
  execTimeoutMs: number;
  writeDebug: boolean;
  cgiHeaders: boolean;
  marshalRequest: boolean;
  /** Forces the answer's Content-Type; otherwise the request's is echoed. */
  contentType: string | undefined;
  suppressLock: boolean;
  /** 0 = unlimited; beyond it requests get 429. */
  maxInflight: number;
  port: number;
  /** Classic mode: stdout bytes a process may write before it is killed with a 500 (max_output). */
  maxOutputBytes: number;
  /** Module mode: the largest request body the handler is given (413 beyond; max_body). */
  maxBodyBytes: number;
  /** Classic mode's process starter: 'auto' (the native spawner if present), 'node', or the spawner's path. */
  spawner: string;
  /** Classic mode: a log line per request in the classic watchdog's words ("Forking fprocess.", "Wrote N Bytes - Duration: S seconds"). */
  logRequests: boolean;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, problem: string) {
    super(`${variable}: ${problem}`);
  }
}

export const DEFAULTS = {
  read_timeout: '5s',
  write_timeout: '5s',
  exec_timeout: '10s',
} as const;

export const DEFAULT_MAX_OUTPUT = '64Mi';
const DEFAULT_MAX_BODY = '64Mi';

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3 };

/** "64Mi", "100M", "1048576", "512k", "2Gi" (optionally with a trailing B) -> bytes. */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(k|m|g|ki|mi|gi)?b?\s*$/i.exec(text);
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * SIZE_UNITS[(match[2] ?? '').toLowerCase()]!);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

function duration(env: Env, name: keyof typeof DEFAULTS): number {
  const raw = text(env, name) ?? DEFAULTS[name];
  const ms = parseDurationMs(raw);
  if (ms === undefined) {
    throw new ConfigError(name, `"${raw}" is not a duration (seconds like "10", or "10s", "500ms", "1m30s")`);
  }
  return ms;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(name, `"${raw}" is not a boolean (true or false)`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `"${raw}" is not a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

export function loadConfig(env: Env = process.env): WatchdogConfig {
  const modeText = (text(env, 'mode') ?? 'classic').trim().toLowerCase();
  if (modeText !== 'classic' && modeText !== 'http' && modeText !== 'module') {
    throw new ConfigError('mode', `"${env.mode}" is not a mode (classic, http or module)`);
  }
  const mode: Mode = modeText;

  // Module mode runs no process: fprocess (which faas-cli may still send) is ignored there.
  const fprocess = text(env, 'fprocess');
  let command: string[] = [];
  if (mode !== 'module') {
    if (fprocess === undefined) throw new ConfigError('fprocess', 'is not set: give the command to run, e.g. fprocess="cat"');
    try {
      command = splitCommandLine(fprocess);
    } catch (err) {
      if (err instanceof CommandLineError) throw new ConfigError('fprocess', `"${fprocess}" ${err.message}`);
      throw err;
    }
  }
  let modulePath: string | undefined;
  if (mode === 'module') {
    modulePath = text(env, 'module')?.trim() ?? DEFAULT_MODULE;
    if (!modulePath.startsWith('/')) throw new ConfigError('module', `"${modulePath}" must be an absolute path to the handler's ES module`);
  }

  let upstreamUrl: URL | undefined;
  const upstream = text(env, 'upstream_url');
  if (mode === 'http') {
    if (upstream === undefined) throw new ConfigError('upstream_url', 'must be set when mode=http (e.g. http://127.0.0.1:3000)');
    try {
      upstreamUrl = new URL(upstream);
    } catch {
      throw new ConfigError('upstream_url', `"${upstream}" is not a URL`);
    }
    if (upstreamUrl.protocol !== 'http:') throw new ConfigError('upstream_url', `"${upstream}" must be an http:// URL`);
  }

  const contentType = text(env, 'content_type');
  if (contentType !== undefined && /[\r\n]/.test(contentType)) {
    throw new ConfigError('content_type', 'must be a single line');
  }

  const maxOutputText = text(env, 'max_output') ?? DEFAULT_MAX_OUTPUT;
  const maxOutputBytes = parseSize(maxOutputText);
  if (maxOutputBytes === undefined || maxOutputBytes < 1) {
    throw new ConfigError('max_output', `"${maxOutputText}" is not a size (bytes like "1048576", or "512Ki", "64Mi", "1Gi", "100M")`);
  }

  const maxBodyText = text(env, 'max_body') ?? DEFAULT_MAX_BODY;
  const maxBodyBytes = parseSize(maxBodyText);
  if (maxBodyBytes === undefined || maxBodyBytes < 1) {
    throw new ConfigError('max_body', `"${maxBodyText}" is not a size (bytes like "1048576", or "512Ki", "64Mi", "1Gi", "100M")`);
  }

  const spawner = text(env, 'spawner')?.trim() ?? 'auto';
  if (spawner !== 'auto' && spawner !== 'node' && !spawner.startsWith('/')) {
    throw new ConfigError('spawner', `"${spawner}" is not auto, node or an absolute path to the spawner binary`);
  }

  return {
    mode,
    command,
    modulePath,
    upstreamUrl,
    readTimeoutMs: duration(env, 'read_timeout'),
    writeTimeoutMs: duration(env, 'write_timeout'),
    execTimeoutMs: duration(env, 'exec_timeout'),
    writeDebug: bool(env, 'write_debug', false),
    cgiHeaders: bool(env, 'cgi_headers', true),
    marshalRequest: bool(env, 'marshal_request', false),
    contentType,
    suppressLock: bool(env, 'suppress_lock', false),
    maxInflight: integer(env, 'max_inflight', 0, 0, 1_000_000),
    port: integer(env, 'port', 8080, 1, 65535),
    maxOutputBytes,
    maxBodyBytes,
    spawner,
    logRequests: bool(env, 'log_requests', true),
  };
}
