// Validation of the /system/functions request bodies. Errors name the field
// so that a 400 tells the user what to fix. The orchestrator's own rules
// (function names, constraint syntax) come from the Provider; what is
// checked here is the API's: image references, quantities, labels.
import { z } from 'zod';
import { memoryBytes, nanoCpus } from './api/quantities.js';
import { decodeRegistryAuth } from './api/registry-auth.js';
import { concurrencyProblems, withWatchdogLimit } from './api/concurrency-labels.js';
import { NAMESPACE_NAME } from '../../core/functions/names.js';
import type { FunctionDeployment, ProviderRules } from './provider/types.js';

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
/** A secret's name (also the file name under /var/openfaas/secrets and /run/secrets). */
const SECRET_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]{0,62})$/;
/** Label prefixes that belong to the engine (a function claiming a stack's membership) or to the gateway itself. */
const RESERVED_LABEL_PREFIXES = ['com.docker.', 'com.swarmfaas.'];

/** Go clients encode an empty map or list as null: null means absent. */
const absentIfNull = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === null ? undefined : value), schema.optional());

const stringMap = z.record(z.string(), z.string());

const amounts = z.strictObject({
  memory: absentIfNull(
    z.string().refine((text) => memoryBytes(text) !== undefined, 'expected a size such as 128Mi, 512M, 1G (Kubernetes) or 128m, 1g (Docker)'),
  ),
  cpu: absentIfNull(z.string().refine((text) => nanoCpus(text) !== undefined, 'expected CPUs such as 100m, 0.5 or 2')),
});

function deploymentFields(rules: ProviderRules, name: { pattern: RegExp; message: string }) {
  return {
    service: z.string().regex(name.pattern, name.message),
    namespace: absentIfNull(z.literal('').or(z.string().regex(NAMESPACE_NAME, 'expected a namespace name: lower-case letters, digits and "-"'))),
    image: z.string().refine(isImageReference, 'expected an image reference such as registry:5000/owner/name:tag (lower case)'),
    envProcess: absentIfNull(z.string()),
    network: absentIfNull(z.literal('').or(z.string().regex(NETWORK_NAME, 'expected a network name'))),
    envVars: absentIfNull(
      stringMap.refine((vars) => Object.keys(vars).every((k) => ENV_NAME.test(k)), 'environment variable names must be letters, digits and "_"'),
    ),
    labels: absentIfNull(
      stringMap.superRefine((labels, ctx) => {
        for (const key of Object.keys(labels)) {
          if (key.length === 0) ctx.addIssue({ code: 'custom', message: 'label names must not be empty' });
          const reserved = RESERVED_LABEL_PREFIXES.find((prefix) => key.startsWith(prefix));
          if (reserved) ctx.addIssue({ code: 'custom', message: `${key}: labels starting ${reserved} are reserved` });
        }
      }),
    ),
    annotations: absentIfNull(stringMap),
    constraints: absentIfNull(z.array(z.string().regex(rules.constraint.pattern, rules.constraint.message))),
    secrets: absentIfNull(z.array(z.string().regex(SECRET_NAME, 'expected a secret name'))),
    registryAuth: absentIfNull(
      z.string().refine((value) => value === '' || decodeRegistryAuth(value) !== undefined, 'expected base64 of "user:password"'),
    ),
    limits: absentIfNull(amounts),
    requests: absentIfNull(amounts),
    readOnlyRootFilesystem: absentIfNull(z.boolean()),
  };
}

/**
 * Any other field is refused by name: a misspelt "envVar" or "label" would
 * otherwise deploy a function silently missing what the user meant to set.
 */
function deploymentSchema(rules: ProviderRules, name: { pattern: RegExp; message: string }, defaultNamespace: string) {
  return z
    .strictObject(deploymentFields(rules, name))
    .superRefine((body, ctx) => {
      for (const [path, message] of concurrencyProblems(body.labels ?? {}, body.envVars ?? {})) ctx.addIssue({ code: 'custom', path, message });
    })
    .transform(({ namespace, registryAuth, limits, requests, network, ...rest }): FunctionDeployment => {
      const deployment: FunctionDeployment = { ...rest, namespace: namespace || defaultNamespace };
      const envVars = withWatchdogLimit(rest.labels, rest.envVars);
      if (envVars) deployment.envVars = envVars;
      const auth = registryAuth ? decodeRegistryAuth(registryAuth) : undefined;
      if (auth) deployment.registryAuth = auth;
      if (network) deployment.network = network;
      const cleanLimits = withoutEmpty(limits);
      if (cleanLimits) deployment.limits = cleanLimits;
      const cleanRequests = withoutEmpty(requests);
      if (cleanRequests) deployment.requests = cleanRequests;
      return deployment;
    });
}

function withoutEmpty(amounts: { memory?: string | undefined; cpu?: string | undefined } | undefined) {
  if (!amounts) return undefined;
  const result: { memory?: string; cpu?: string } = {};
  if (amounts.memory) result.memory = amounts.memory.trim();
  if (amounts.cpu) result.cpu = amounts.cpu.trim();
  return Object.keys(result).length > 0 ? result : undefined;
}

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

/** The request schemas of one gateway: the provider's rules and the default namespace applied. */
export interface RequestSchemas {
  deployment: z.ZodType<FunctionDeployment>;
  /** PUT names an existing function, which may predate the lower-case rule. */
  update: z.ZodType<FunctionDeployment>;
  remove: z.ZodType<{ functionName: string; namespace: string }>;
}

export function requestSchemas(rules: ProviderRules, defaultNamespace: string): RequestSchemas {
  return {
    deployment: deploymentSchema(rules, rules.newFunctionName, defaultNamespace),
    update: deploymentSchema(rules, rules.functionName, defaultNamespace),
    remove: z
      .object({
        functionName: z.string().regex(rules.functionName.pattern, rules.functionName.message),
        namespace: absentIfNull(z.literal('').or(z.string().regex(NAMESPACE_NAME, 'expected a namespace name'))),
      })
      .transform(({ functionName, namespace }) => ({ functionName, namespace: namespace || defaultNamespace })),
  };
}

/** Body of POST/PUT /system/namespace/{name}: {name, labels, annotations} (name may also come from the path). */
export const namespaceSchema = z.strictObject({
  name: absentIfNull(z.string().regex(NAMESPACE_NAME, 'expected a namespace name: lower-case letters, digits and "-"')),
  labels: absentIfNull(stringMap),
  annotations: absentIfNull(stringMap),
});

/** Body of POST/PUT /system/secrets: {name, namespace, value | rawValue (base64)}. */
export const secretSchema = z
  .strictObject({
    name: z.string().regex(SECRET_NAME, 'expected a secret name: letters, digits, ".", "_" and "-" (at most 63)'),
    namespace: absentIfNull(z.literal('').or(z.string().regex(NAMESPACE_NAME, 'expected a namespace name'))),
    value: absentIfNull(z.string()),
    rawValue: absentIfNull(z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64')),
  })
  .refine((s) => s.value !== undefined || s.rawValue !== undefined, { message: 'expected value or rawValue', path: ['value'] })
  .refine((s) => !(s.value !== undefined && s.rawValue !== undefined), { message: 'give value or rawValue, not both', path: ['rawValue'] })
  // Swarm keeps secrets up to 500 KB.
  .refine((s) => (s.value !== undefined ? Buffer.byteLength(s.value) : ((s.rawValue?.length ?? 0) * 3) / 4) <= 500 * 1024, { message: 'at most 500 KB', path: ['value'] });

/** Body of DELETE /system/secrets: {name, namespace}. */
export const secretRefSchema = z.object({
  name: z.string().regex(SECRET_NAME, 'expected a secret name'),
  namespace: absentIfNull(z.literal('').or(z.string().regex(NAMESPACE_NAME, 'expected a namespace name'))),
});
