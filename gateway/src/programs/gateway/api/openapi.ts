// Builds the gateway's OpenAPI 3.1 document from the routes' documentation
// (api/route-docs.ts): bodies and answers are JSON Schemas made from the zod
// schemas the routes validate with and answer in (z.toJSONSchema), named
// ones collected under components.schemas. Pure: no I/O.
import { z } from 'zod';
import { answerRegistry } from './answers.js';

export const DOCUMENTED_METHODS = ['get', 'put', 'post', 'delete', 'options', 'patch', 'trace'] as const;
export type DocumentedMethod = (typeof DOCUMENTED_METHODS)[number];

/** A JSON Schema written by hand (where no zod schema exists, e.g. a plain text answer). */
export type JsonSchema = { [key: string]: unknown };
/** A zod schema (converted; `io: 'input'` for request bodies) or a JSON Schema. */
export type SchemaSource = z.ZodType | JsonSchema;

export interface DocParameter {
  name: string;
  in: 'query' | 'header' | 'path';
  description: string;
  required?: boolean;
  schema?: SchemaSource;
  example?: string;
}

export interface DocBody {
  description?: string;
  required?: boolean;
  /** Content type -> schema (undefined: any bytes). */
  content: Record<string, SchemaSource | undefined>;
  example?: unknown;
}

export interface DocAnswer {
  description: string;
  /** Content type -> schema; absent: no body. */
  content?: Record<string, SchemaSource | undefined>;
  headers?: Record<string, string>;
}

export interface RouteDoc {
  /** 'any': every method (an invocation, a proxy). */
  method: DocumentedMethod | 'any';
  /** OpenAPI path template: /system/function/{name}. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** Path parameters are read from the template; describe them here (else: "the {name} part of the path"). */
  parameters?: DocParameter[];
  body?: DocBody;
  /** Status -> answer. Errors every route of its kind shares (401, 403, 400 for a bad path) are added. */
  answers: Record<string, DocAnswer>;
  /** Behind basic auth when the gateway has it on (decided from the path by the caller, as the gateway decides). */
  auth: boolean;
}

export interface DocumentOptions {
  version: string;
  /** Whether the gateway has basic auth on: protected operations name the scheme only then. */
  basicAuth: boolean;
  description: string;
}

/** A text/plain body (every error of the gateway). */
export const TEXT = { 'text/plain': { type: 'string' } } satisfies Record<string, JsonSchema>;

/** The OpenAPI 3.1 document of the given routes. */
export function openApiDocument(routes: readonly RouteDoc[], options: DocumentOptions): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  const convert = (source: SchemaSource, io: 'input' | 'output'): JsonSchema => {
    if (!(source instanceof z.ZodType)) return source;
    const schema = z.toJSONSchema(source, { metadata: answerRegistry, io, target: 'draft-2020-12', unrepresentable: 'any', reused: 'inline' }) as JsonSchema;
    const defs = (schema.$defs ?? {}) as Record<string, JsonSchema>;
    delete schema.$defs;
    delete schema.$schema;
    for (const [id, def] of Object.entries(defs)) components[id] ??= tidy(def, id);
    return tidy(schema);
  };
  const content = (map: Record<string, SchemaSource | undefined>, io: 'input' | 'output') =>
    Object.fromEntries(Object.entries(map).map(([type, schema]) => [type, schema === undefined ? {} : { schema: convert(schema, io) }]));

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const methods = route.method === 'any' ? DOCUMENTED_METHODS : [route.method];
    const pathNames = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const parameters = [
      ...pathNames.map((name) => {
        const given = route.parameters?.find((p) => p.in === 'path' && p.name === name);
        return { name, in: 'path', required: true, description: given?.description ?? `the {${name}} part of the path`, schema: given?.schema ? convert(given.schema, 'input') : { type: 'string' } };
      }),
      ...(route.parameters ?? [])
        .filter((p) => p.in !== 'path')
        .map((p) => ({
          name: p.name,
          in: p.in,
          description: p.description,
          ...(p.required ? { required: true } : {}),
          schema: p.schema ? convert(p.schema, 'input') : { type: 'string' },
          ...(p.example !== undefined ? { example: p.example } : {}),
        })),
    ];
    const answers: Record<string, DocAnswer> = { ...route.answers };
    if (!Object.keys(answers).some((s) => s === '400')) answers['400'] = { description: 'a path that cannot be read (an encoded "/", "\\" or NUL, or a bad parameter)', content: TEXT };
    if (route.auth && options.basicAuth) answers['401'] = { description: 'no or wrong credentials (WWW-Authenticate: Basic)', content: TEXT };
    const refused: DocAnswer = { description: 'a change sent by a page of another origin (the Origin header names neither the gateway nor ALLOWED_ORIGINS)', content: TEXT };
    const responses = (method: string) =>
      Object.fromEntries(
        Object.entries<DocAnswer>({
          ...answers,
          ...(route.auth && method !== 'get' && method !== 'options' && method !== 'trace' ? { '403': refused } : {}),
        })
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([status, answer]) => [
            status,
            {
              description: answer.description,
              ...(answer.headers ? { headers: Object.fromEntries(Object.entries(answer.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
              ...(answer.content ? { content: content(answer.content, 'output') } : {}),
            },
          ]),
      );
    const item = (paths[route.path] ??= {});
    for (const method of methods) {
      if (item[method]) throw new Error(`${method.toUpperCase()} ${route.path} is documented twice`);
      item[method] = {
        tags: [route.tag],
        summary: route.summary,
        ...(route.description ? { description: route.description } : {}),
        operationId: operationId(method, route.path),
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(route.body && method !== 'get' && method !== 'options' && method !== 'trace'
          ? {
              requestBody: {
                ...(route.body.description ? { description: route.body.description } : {}),
                required: route.body.required ?? true,
                content: withExample(content(route.body.content, 'input'), route.body.example),
              },
            }
          : {}),
        responses: responses(method),
        security: route.auth && options.basicAuth ? [{ basicAuth: [] }] : [],
      };
    }
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'SwarmFaaS gateway',
      version: options.version,
      description: options.description,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/', description: 'this gateway' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: { basicAuth: { type: 'http', scheme: 'basic', description: 'the gateway credentials (BASIC_AUTH=true): /system/* and /ui' } },
    },
  };
}

function withExample(content: Record<string, Record<string, unknown>>, example: unknown): Record<string, Record<string, unknown>> {
  if (example === undefined) return content;
  const [first] = Object.keys(content);
  return first ? { ...content, [first]: { ...content[first], example } } : content;
}

/** getSystemFunctionName for GET /system/function/{name}. */
export function operationId(method: string, path: string): string {
  const words = path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1));
  return method + (words.join('') || 'Root');
}

/**
 * References into components instead of $defs; without zod's safe-integer
 * bounds on every whole number (noise for a reader), nor an $id.
 */
function tidy(schema: JsonSchema, id?: string): JsonSchema {
  const text = JSON.stringify(schema, (key, value: unknown) => {
    if ((key === 'minimum' && value === Number.MIN_SAFE_INTEGER) || (key === 'maximum' && value === Number.MAX_SAFE_INTEGER)) return undefined;
    if (key === '$id') return undefined;
    return value;
  }).replaceAll('"#/$defs/', '"#/components/schemas/');
  const result = JSON.parse(text) as JsonSchema;
  if (id && result.$ref === `#/components/schemas/${id}`) throw new Error(`schema ${id} refers to itself only`);
  return result;
}
