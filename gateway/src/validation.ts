// Validation of the /system/functions request bodies. Errors name the field
// so that a 400 tells the user what to fix.
import { z } from 'zod';
import type { FunctionDeployment } from './provider/types.js';

/**
 * A Swarm service name that is also one DNS label: the gateway reaches a
 * function through tasks.<name>, so dots (which would split the name into
 * several labels) are not allowed; underscores are, for stack prefixes (func_echoit).
 */
export const FUNCTION_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?$/;

/**
 * A name for a NEW function: as above, lower case only. DNS is case-blind, so
 * "Echo" and "echo" would share tasks.<name>; existing services with upper
 * case (from a stack named so) can still be named to remove them.
 */
export const NEW_FUNCTION_NAME = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?$/;

// An image reference as Docker's distribution/reference grammar defines it:
// [registry[:port]/]path[:tag][@digest]
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domain = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const pathComponent = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}';
const DOMAIN_PATTERN = new RegExp(`^${domain}$`);
const REMOTE_PATTERN = new RegExp(`^${pathComponent}(?:/${pathComponent})*(?::${tag})?(?:@${digest})?$`);

/** Docker's rule: the first part names a registry only when it has a "." or ":" or is "localhost". */
export function isImageReference(reference: string): boolean {
  if (reference.length === 0 || reference.length > 512) return false;
  const slash = reference.indexOf('/');
  const first = slash >= 0 ? reference.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry && !DOMAIN_PATTERN.test(first)) return false;
  return REMOTE_PATTERN.test(hasRegistry ? reference.slice(slash + 1) : reference);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Docker network name or ID. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/;
/** Placement constraint: <attribute> == <value> or <attribute> != <value>. */
const CONSTRAINT = /^\s*[A-Za-z0-9_.\-[\]]+\s*(==|!=)\s*\S.*$/;
/** Memory size as Docker accepts it: 128m, 1g, 512k, 1048576. */
export const MEMORY = /^\d+(\.\d+)?\s*([bkmg]i?b?)?$/i;
const CPU = /^\d+(\.\d+)?$/;
/** A Docker secret name (also used as the file name under /run/secrets). */
const SECRET_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62})$/;

const stringMap = z.record(z.string(), z.string());

const limits = z
  .object({
    memory: z.string().regex(MEMORY, 'expected a size such as 128m or 1g').optional(),
    cpu: z.string().regex(CPU, 'expected CPUs as a decimal such as 0.5').optional(),
  })
  .strip();

const deploymentFields = {
    service: z
      .string()
      .regex(NEW_FUNCTION_NAME, 'expected a name of lower-case letters, digits, "-" and "_" (at most 63, starting and ending with a letter or digit)'),
    image: z.string().refine(isImageReference, 'expected an image reference such as registry:5000/owner/name:tag (lower case)'),
    envProcess: z.string().optional(),
    network: z.string().regex(NETWORK_NAME, 'expected a network name').optional().or(z.literal('').transform(() => undefined)),
    envVars: stringMap
      .refine((vars) => Object.keys(vars).every((k) => ENV_NAME.test(k)), 'environment variable names must be letters, digits and "_"')
      .optional(),
    labels: stringMap.refine((l) => Object.keys(l).every((k) => k.length > 0), 'label names must not be empty').optional(),
    annotations: stringMap.optional(),
    constraints: z.array(z.string().regex(CONSTRAINT, 'expected "<attribute> == <value>" or "<attribute> != <value>"')).optional(),
    secrets: z.array(z.string().regex(SECRET_NAME, 'expected a Docker secret name')).optional(),
    registryAuth: z
      .string()
      .refine((value) => value === '' || decodeRegistryAuth(value) !== undefined, 'expected base64 of "user:password"')
      .optional(),
    limits: limits.optional(),
    requests: limits.optional(),
    readOnlyRootFilesystem: z.boolean().optional(),
    // OpenFaaS clients send it; Swarm has no namespaces: accepted and dropped.
    namespace: z.string().optional(),
};

/**
 * Any other field is refused by name: a misspelt "envVar" or "label" would
 * otherwise deploy a function silently missing what the user meant to set.
 */
const deploymentObject = (fields: typeof deploymentFields) =>
  z.strictObject(fields).transform(({ namespace: _namespace, ...deployment }) => deployment);

export const deploymentSchema = deploymentObject(deploymentFields);

/** PUT names an existing function, which may predate the lower-case rule. */
export const updateSchema = deploymentObject({ ...deploymentFields, service: z.string().regex(FUNCTION_NAME, 'expected a function name') });

export const deleteSchema = z.object({
  functionName: z.string().regex(FUNCTION_NAME, 'expected a function name'),
});

export class ValidationError extends Error {}

/** Parses a body against a schema; a ValidationError names each bad field. */
export function validate<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
    if (issue.code === 'unrecognized_keys') return `${field}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    return `${field}: ${issue.message}`;
  });
  throw new ValidationError(`invalid request: ${problems.join('; ')}`);
}

export function parseDeployment(body: unknown): FunctionDeployment {
  return validate(deploymentSchema, body);
}

export function parseUpdate(body: unknown): FunctionDeployment {
  return validate(updateSchema, body);
}

/** OpenFaaS registryAuth: base64 of "user:password". */
export function decodeRegistryAuth(value: string): { username: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** "128m" -> 134217728 (Docker's units: k, m, g are powers of 1024). */
export function parseMemory(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmg])?/i.exec(text.trim());
  if (!match) throw new ValidationError(`not a memory size: ${text}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const factor = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[unit as 'b' | 'k' | 'm' | 'g'];
  return Math.round(Number(match[1]) * factor);
}

/** "0.5" CPUs -> 500000000 NanoCPUs. */
export function parseCpu(text: string): number {
  return Math.round(Number(text) * 1e9);
}
