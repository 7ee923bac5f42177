// Every setting of the builder, read once from the environment and validated
// at start-up: a bad value stops it with a message naming the variable.
import { parseDurationSeconds } from '@swarm-faas/duration';
import { z } from 'zod';

/** "100mb", "512kb", "1048576" -> bytes. */
export function parseBytes(text: string): number {
  const match = /^(\d+)(b|kb|mb|gb)?$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${text}`);
  return Number(match[1]) * { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase() as 'b']!;
}

const seconds = z
  .string()
  .trim()
  .refine((text) => parseDurationSeconds(text) !== undefined, 'expected seconds, or a duration such as 30s, 10m, 1h')
  .transform((text) => parseDurationSeconds(text)!);

const bytes = z
  .string()
  .trim()
  .regex(/^\d+(b|kb|mb|gb)?$/i, 'expected bytes, e.g. 104857600, 100mb')
  .transform(parseBytes);

const integer = (min: number, max: number) => z.string().trim().regex(/^\d+$/, 'expected a whole number').transform(Number).pipe(z.number().int().min(min).max(max));

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(true|false|1|0|yes|no)$/, 'expected true or false')
  .transform((text) => ['true', '1', 'yes'].includes(text));

/** A comma-separated list. */
const list = z
  .string()
  .trim()
  .transform((text) => text.split(',').map((item) => item.trim()).filter(Boolean));

/** NAME=value,NAME=value: build arguments every build gets unless it sets them. */
const buildArgs = z
  .string()
  .trim()
  .refine((text) => text === '' || text.split(',').every((pair) => /^\s*[A-Za-z_][A-Za-z0-9_]*=[^,]*$/.test(pair)), 'expected NAME=value pairs, comma-separated')
  .transform((text) => Object.fromEntries(text.split(',').filter((p) => p.trim()).map((pair) => [pair.slice(0, pair.indexOf('=')).trim(), pair.slice(pair.indexOf('=') + 1).trim()])));

const schema = z.object({
  PORT: integer(1, 65535).prefault('8080'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'),
  /** The stack this builder belongs to: its images are labelled with it, and images another stack's builder made are not its to write. */
  STACK_NAME: z.string().trim().min(1).prefault('func'),
  /** The payload secret (a Docker secret): X-Build-Signature is its HMAC-SHA256 of the request body. */
  PAYLOAD_SECRET_FILE: z.string().trim().prefault('/run/secrets/payload-secret'),
  /** Largest request (the tar: context and build config); 413 beyond, before it is read whole. */
  BUILD_MAX_CONTEXT: bytes.prefault('100mb'),
  /** A build (the wait for a slot excluded) that takes longer is stopped and reported as failed. */
  BUILD_TIMEOUT: seconds.prefault('10m'),
  /** Builds at once; the rest wait for a slot, and say so in their progress. */
  BUILD_CONCURRENCY: integer(1, 64).prefault('2'),
  /** Requests waiting for a slot at most; beyond, 429. */
  BUILD_QUEUE: integer(0, 1000).prefault('20'),
  /** buildkit, classic, or auto: BuildKit when the engine has it (API 1.39 and later, Linux), else the classic builder. */
  BUILD_BACKEND: z.enum(['auto', 'buildkit', 'classic']).prefault('auto'),
  /** Build arguments every build gets unless it sets them (the stack's watchdog image and the templates' build bases). */
  BUILD_ARGS: buildArgs.prefault(''),
  /** Images named under one of these prefixes (e.g. 127.0.0.1:5000/) are pushed once built, unless the build says skipPush. */
  BUILD_PUSH_PREFIXES: list.prefault(''),
  /** Refuse images that would not be pushed (a swarm of several nodes: only a pushed image reaches every node). */
  BUILD_REQUIRE_PUSH: bool.prefault('false'),
  /** When set, only images under this prefix may be built. */
  BUILD_IMAGE_PREFIX: z.string().trim().prefault(''),
  /** Repositories (or prefixes ending in /) never written: the stack's own images. */
  BUILD_RESERVED: list.prefault(''),
  /** Classic builder only: CPU shares of the build's containers (1024 = a container's default): builds yield to functions. */
  BUILD_CPU_SHARES: integer(2, 262144).prefault('256'),
  /** Classic builder only: memory limit of each build step's container (0 = none). */
  BUILD_MEMORY: bytes.prefault('2gb'),
  /** Where request contexts wait on disk while they are built. */
  WORK_DIR: z.string().trim().prefault('/tmp'),
});

export type Config = z.output<typeof schema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(present[String(i.path[0])] ?? '')}: ${i.message}`);
    throw new ConfigError(`invalid builder settings: ${problems.join('; ')}`);
  }
  return parsed.data;
}
