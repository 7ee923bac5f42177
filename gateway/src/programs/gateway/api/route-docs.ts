// The documentation of every route the gateway registers: what it takes
// (parameters, body) and what it answers, for the OpenAPI document
// (api/openapi.ts, served at GET /system/openapi.json). Bodies and JSON
// answers are the zod schemas the routes validate with and answer in.
// test/unit/openapi.test.ts checks this table against the routes app.ts
// registers: a route without its documentation (or documentation without
// its route) fails it.
import { z } from 'zod';
import { needsAuth } from '../http/normalise-path.js';
import { alertPayloadSchema } from '../scaling/alert-payload.js';
import { scaleRequestSchema } from '../scaling/manual.js';
import { catalogSchema } from '../store/catalog.js';
import { keptSourceSchema } from '../../../queue/kept-sources.js';
import { sourceRequestSchema } from '../source/request.js';
import { BUILT_IN_PATH, storeChoiceSchema, storeViewSchema } from '../store/view.js';
import { namespaceSchema as namespaceBody, secretRefSchema, secretSchema, type RequestSchemas } from '../validation.js';
import * as answers from './answers.js';
import { TEXT, type DocAnswer, type DocParameter, type RouteDoc } from './openapi.js';

const json = (schema: z.ZodType): Record<string, z.ZodType> => ({ 'application/json': schema });
const text = (description: string): DocAnswer => ({ description, content: TEXT });
const empty = (description: string): DocAnswer => ({ description });

const templatesAnswerSchema = z.object({
  builder: z.boolean(),
  durable: z.boolean(),
  templates: z.array(z.object({ language: z.string(), welcome: z.string(), files: z.record(z.string(), z.string()) })),
});

const NAME: DocParameter = { name: 'name', in: 'path', description: 'the function: name (default namespace) or name.namespace' };
const NAMESPACE_QUERY: DocParameter = { name: 'namespace', in: 'query', description: 'the namespace (default: DEFAULT_NAMESPACE, openfaas-fn)' };
const WINDOW: DocParameter = { name: 'window', in: 'query', description: 'how far back', schema: answers.windowSchema, example: '15m' };
const INVOCATION_ANSWERS: Record<string, DocAnswer> = {
  '200': {
    description: "the function's answer (any status the function gives), streamed; with X-Call-Id, X-Start-Time and the watchdog's X-Duration-Seconds",
    content: { '*/*': undefined },
    headers: { 'X-Call-Id': "the caller's X-Call-Id, else a new one", 'X-Start-Time': 'when the gateway took the call (ns since the epoch)' },
  },
  '404': text('no such function'),
  '413': text('a body larger than FUNCTION_BODY_LIMIT'),
  '502': text('the call reached a task and the connection broke'),
  '504': text('no task ready within WAKE_TIMEOUT, or no answer within UPSTREAM_TIMEOUT'),
};

/** Every route of the gateway, documented. */
export function routeDocs(schemas: RequestSchemas): RouteDoc[] {
  const docs: Array<Omit<RouteDoc, 'auth'>> = [
    // Functions ---------------------------------------------------------------------------------
    {
      method: 'get',
      path: '/system/functions',
      tag: 'Functions',
      summary: 'List the functions of a namespace',
      parameters: [NAMESPACE_QUERY],
      answers: { '200': { description: 'the functions, by name', content: json(answers.functionStatusSchema.array()) }, '503': text('the orchestrator did not answer') },
    },
    {
      method: 'post',
      path: '/system/functions',
      tag: 'Functions',
      summary: 'Deploy a function',
      description: 'Starts at its minimum replicas (com.openfaas.scale.min, at least 1). Unknown fields are refused by name; null means absent.',
      body: { content: json(schemas.deployment), example: { service: 'hello', image: 'swarmfaas/echoit:0.1.0', envProcess: 'cat', labels: { 'com.openfaas.scale.max': '5' } } },
      answers: { '202': empty('accepted by the orchestrator'), '400': text('a field that is wrong, named'), '409': text('a service has the name'), '413': text('a body larger than SYSTEM_BODY_LIMIT') },
    },
    {
      method: 'put',
      path: '/system/functions',
      tag: 'Functions',
      summary: 'Update a function (rolling, start-first; replicas kept)',
      body: { content: json(schemas.update) },
      answers: { '202': empty('accepted by the orchestrator'), '400': text('a field that is wrong, named'), '404': text('no such function'), '413': text('a body larger than SYSTEM_BODY_LIMIT') },
    },
    {
      method: 'delete',
      path: '/system/functions',
      tag: 'Functions',
      summary: 'Remove a function',
      parameters: [NAMESPACE_QUERY],
      body: { content: json(schemas.remove), example: { functionName: 'hello' } },
      answers: { '202': empty('removed'), '400': text('a field that is wrong, named'), '404': text('no such function (or not a function)') },
    },
    {
      method: 'get',
      path: '/system/function/{name}',
      tag: 'Functions',
      summary: 'One function, with its tasks and the node each runs on',
      parameters: [NAME, NAMESPACE_QUERY],
      answers: { '200': { description: 'the function, with instances', content: json(answers.functionStatusSchema) }, '404': text('no such function') },
    },
    {
      method: 'post',
      path: '/system/scale-function/{name}',
      tag: 'Functions',
      summary: 'Set the replicas by hand (0: asleep until the next call)',
      parameters: [NAME, NAMESPACE_QUERY],
      body: { content: json(scaleRequestSchema), example: { serviceName: 'hello', replicas: 2 } },
      answers: { '202': { description: 'what changed', content: json(answers.scaleResultSchema) }, '400': text('replicas above the maximum, or a serviceName other than the path'), '404': text('no such function') },
    },
    {
      method: 'get',
      path: '/system/logs',
      tag: 'Functions',
      summary: "A function's logs",
      parameters: [
        { name: 'name', in: 'query', required: true, description: 'the function: name or name.namespace' },
        NAMESPACE_QUERY,
        { name: 'tail', in: 'query', description: 'the last lines only (-1: all)', example: '100' },
        { name: 'since', in: 'query', description: 'lines after this RFC 3339 time' },
        { name: 'follow', in: 'query', description: 'true: keep the stream open for new lines', schema: z.enum(['true', 'false']) },
      ],
      answers: { '200': { description: 'newline-delimited JSON, one LogEntry a line', content: { 'application/x-ndjson': answers.logEntrySchema } }, '404': text('no such function') },
    },
    {
      method: 'get',
      path: '/system/function/{name}/history',
      tag: 'Monitoring',
      summary: "One function's rate, duration, replicas and scale events from Prometheus",
      parameters: [NAME, NAMESPACE_QUERY, WINDOW],
      answers: { '200': { description: 'the series', content: json(answers.functionHistorySchema) }, '404': text('no such function'), '503': text('Prometheus did not answer within 3 s') },
    },
    {
      method: 'get',
      path: '/system/functions/history',
      tag: 'Monitoring',
      summary: "Every function's rate and replicas over the window",
      parameters: [WINDOW],
      answers: { '200': { description: 'the series by function', content: json(answers.functionsHistorySchema) }, '503': text('Prometheus did not answer within 3 s') },
    },
    {
      method: 'get',
      path: '/system/overview',
      tag: 'Monitoring',
      summary: "The stack's health and the alerts firing now",
      answers: { '200': { description: 'always 200: a service that is down is part of the answer', content: json(answers.overviewSchema) } },
    },
    {
      method: 'post',
      path: '/system/alert',
      tag: 'Monitoring',
      summary: "AlertManager's webhook: scales the functions its alerts name",
      body: { content: json(alertPayloadSchema) },
      answers: { '200': { description: 'what each alert did', content: json(answers.alertAnswerSchema) }, '502': { description: 'scaling failed for a function (AlertManager retries)', content: json(answers.alertAnswerSchema) } },
    },
    ...(['prometheus', 'alertmanager'] as const).flatMap((name): Array<Omit<RouteDoc, 'auth'>> => [
      { method: 'get', path: `/system/${name}`, tag: 'Monitoring', summary: `Redirect to /system/${name}/`, answers: { '302': empty(`to /system/${name}/`) } },
      {
        method: 'any',
        path: `/system/${name}/{path}`,
        tag: 'Monitoring',
        summary: `The stack's ${name === 'prometheus' ? 'Prometheus' : 'AlertManager'}, its pages and API, behind the gateway's auth`,
        parameters: [{ name: 'path', in: 'path', description: `its path (may hold "/"), e.g. ${name === 'prometheus' ? 'api/v1/query' : 'api/v2/alerts'}` }],
        body: { required: false, content: { '*/*': undefined } },
        answers: { '200': { description: 'its answer, passed on', content: { '*/*': undefined } }, '503': text('it did not answer') },
      },
    ]),

    // Invocation ----------------------------------------------------------------------------------
    {
      method: 'any',
      path: '/function/{name}',
      tag: 'Invocation',
      summary: 'Invoke a function',
      description: 'Method, query, headers and body go to the function; its answer comes back, both streamed. A function at zero replicas is woken and the call held.',
      parameters: [NAME],
      body: { required: false, content: { '*/*': undefined } },
      answers: INVOCATION_ANSWERS,
    },
    {
      method: 'any',
      path: '/function/{name}/{path}',
      tag: 'Invocation',
      summary: 'Invoke a function at a path',
      parameters: [NAME, { name: 'path', in: 'path', description: 'the rest of the path (may hold "/"), passed to the function' }],
      body: { required: false, content: { '*/*': undefined } },
      answers: INVOCATION_ANSWERS,
    },
    ...['/async-function/{name}', '/async-function/{name}/{path}'].map(
      (path): Omit<RouteDoc, 'auth'> => ({
        method: 'any',
        path,
        tag: 'Invocation',
        summary: 'Queue a call (POST, PUT, PATCH, DELETE): the answer goes to X-Callback-Url',
        parameters: [
          NAME,
          ...(path.endsWith('{path}') ? [{ name: 'path', in: 'path' as const, description: 'the rest of the path (may hold "/"), passed to the function' }] : []),
          { name: 'X-Callback-Url', in: 'header', description: "where the queue worker POSTs the function's answer (http or https)" },
        ],
        body: { required: false, content: { '*/*': undefined } },
        answers: {
          '202': { description: 'stored in the queue', headers: { 'X-Call-Id': 'the call' } },
          '400': text('an X-Callback-Url that is not an http(s) URL'),
          '404': text('no such function'),
          '405': text('GET, HEAD and the other methods that ask for an answer'),
          '413': text('a body larger than ASYNC_BODY_LIMIT'),
          '503': text('the queue (NATS) cannot be reached, or NATS_URL=none'),
        },
      }),
    ),

    // Asynchronous calls --------------------------------------------------------------------------
    {
      method: 'get',
      path: '/system/async/queues',
      tag: 'Asynchronous calls',
      summary: 'Calls waiting or being worked on, and dead letters, per function',
      answers: { '200': { description: 'one row per function', content: json(answers.asyncQueueSchema.array()) }, '503': text('the queue cannot be reached') },
    },
    {
      method: 'delete',
      path: '/system/async/queues/{name}',
      tag: 'Asynchronous calls',
      summary: 'Drop the calls queued for one function',
      parameters: [NAME, NAMESPACE_QUERY],
      answers: { '200': { description: 'how many', content: json(answers.purgeAnswerSchema) }, '503': text('the queue cannot be reached') },
    },
    {
      method: 'get',
      path: '/system/async/dead-letters',
      tag: 'Asynchronous calls',
      summary: 'Dead letters, oldest first',
      parameters: [
        { name: 'function', in: 'query', description: "one function's only: name or name.namespace" },
        { name: 'namespace', in: 'query', description: 'with function: its namespace' },
        { name: 'after', in: 'query', description: 'those with an id above this', schema: z.string().regex(/^\d+$/) },
        { name: 'limit', in: 'query', description: 'at most this many (1-1000, default 100)', schema: z.string().regex(/^\d+$/) },
      ],
      answers: { '200': { description: 'the dead letters', content: json(answers.deadLetterSchema.array()) }, '503': text('the queue cannot be reached') },
    },
    {
      method: 'get',
      path: '/system/async/dead-letters/{id}',
      tag: 'Asynchronous calls',
      summary: 'One dead letter, with its request',
      parameters: [{ name: 'id', in: 'path', description: "the dead letter's id", schema: z.string().regex(/^[1-9]\d*$/) }],
      answers: { '200': { description: 'the dead letter', content: json(answers.deadLetterWithBodySchema) }, '404': text('no such dead letter'), '503': text('the queue cannot be reached') },
    },
    {
      method: 'post',
      path: '/system/async/dead-letters/{id}/replay',
      tag: 'Asynchronous calls',
      summary: "Queue a dead letter's call again (the dead letter goes)",
      parameters: [{ name: 'id', in: 'path', description: "the dead letter's id", schema: z.string().regex(/^[1-9]\d*$/) }],
      answers: { '202': { description: 'queued', content: json(answers.replayAnswerSchema), headers: { 'X-Call-Id': 'the call' } }, '404': text('no such dead letter'), '503': text('the queue cannot be reached') },
    },
    {
      method: 'delete',
      path: '/system/async/dead-letters/{id}',
      tag: 'Asynchronous calls',
      summary: 'Forget a dead letter',
      parameters: [{ name: 'id', in: 'path', description: "the dead letter's id", schema: z.string().regex(/^[1-9]\d*$/) }],
      answers: { '204': empty('forgotten'), '404': text('no such dead letter'), '503': text('the queue cannot be reached') },
    },

    // Events --------------------------------------------------------------------------------------
    {
      method: 'post',
      path: '/system/events/{subject}',
      tag: 'Events',
      summary: 'Publish the body to a NATS subject (functions with the annotation topic get it)',
      parameters: [
        { name: 'subject', in: 'path', description: 'a subject without wildcards, not of the stack (not $..., _..., faas-...)', example: 'orders.created' },
        { name: 'reply', in: 'query', description: 'true: a request, answered with the first subscribed function\'s answer', schema: z.enum(['true', 'false']) },
        { name: 'timeout', in: 'query', description: 'with reply=true: how long to wait (default 10s, at most 120s)', example: '10s' },
        { name: 'X-Message-Id', in: 'header', description: 'durable subjects: a publish repeated with the same id within 2 minutes is stored once' },
      ],
      body: { required: false, content: { '*/*': undefined } },
      answers: {
        '200': { description: "reply=true: the function's answer (X-Function-Name, X-Function-Status)", content: { '*/*': undefined } },
        '202': { description: 'published', content: json(answers.publishAnswerSchema), headers: { 'X-Call-Id': 'the message' } },
        '400': text('a subject that cannot be published to, named'),
        '404': text('reply=true and no function listens'),
        '409': text('reply=true on a durable subject'),
        '413': text('a body larger than ASYNC_BODY_LIMIT'),
        '503': text('NATS cannot be reached, or NATS_URL=none'),
        '504': text('reply=true and no answer in time'),
      },
    },
    {
      method: 'get',
      path: '/system/function/{name}/events',
      tag: 'Events',
      summary: "A function's topics and schedule, backlog, last runs and queue depth",
      parameters: [NAME, NAMESPACE_QUERY, WINDOW],
      answers: { '200': { description: 'its events', content: json(answers.functionEventsSchema) }, '404': text('no such function') },
    },

    // Namespaces and secrets ----------------------------------------------------------------------
    { method: 'get', path: '/system/namespaces', tag: 'Namespaces', summary: "The namespaces' names, the default one first", answers: { '200': { description: 'names', content: json(z.array(z.string())) } } },
    {
      method: 'get',
      path: '/system/namespace/{name}',
      tag: 'Namespaces',
      summary: 'One namespace',
      parameters: [{ name: 'name', in: 'path', description: 'the namespace' }],
      answers: { '200': { description: 'the namespace', content: json(answers.namespaceSchema) }, '404': text('no such namespace') },
    },
    ...(['post', 'put'] as const).map(
      (method): Omit<RouteDoc, 'auth'> => ({
        method,
        path: '/system/namespace/{name}',
        tag: 'Namespaces',
        summary: method === 'post' ? 'Create a namespace' : "Change a namespace's labels and annotations",
        parameters: [{ name: 'name', in: 'path', description: 'the namespace' }],
        body: { content: json(namespaceBody), example: { labels: { owner: 'a' } } },
        answers:
          method === 'post'
            ? { '201': { description: 'created', content: json(answers.namespaceSchema) }, '409': text('it exists'), '503': text('no free namespace network (NAMESPACE_SLOTS)') }
            : { '202': { description: 'changed', content: json(answers.namespaceSchema) }, '404': text('no such namespace') },
      }),
    ),
    {
      method: 'post',
      path: '/system/namespace',
      tag: 'Namespaces',
      summary: 'Create a namespace named in the body',
      body: { content: json(namespaceBody), example: { name: 'team-a' } },
      answers: { '201': { description: 'created', content: json(answers.namespaceSchema) }, '409': text('it exists') },
    },
    {
      method: 'delete',
      path: '/system/namespace/{name}',
      tag: 'Namespaces',
      summary: 'Delete a namespace',
      parameters: [{ name: 'name', in: 'path', description: 'the namespace' }],
      answers: { '202': empty('deleted'), '404': text('no such namespace'), '409': text('it holds functions (named), or it is the default one') },
    },
    {
      method: 'get',
      path: '/system/secrets',
      tag: 'Secrets',
      summary: 'The secrets of a namespace (names, never values)',
      parameters: [NAMESPACE_QUERY],
      answers: { '200': { description: 'the secrets', content: json(answers.secretNameSchema.array()) } },
    },
    ...(['post', 'put'] as const).map(
      (method): Omit<RouteDoc, 'auth'> => ({
        method,
        path: '/system/secrets',
        tag: 'Secrets',
        summary: method === 'post' ? 'Create a secret' : 'Give a secret a new value (the functions using it roll onto it)',
        parameters: [NAMESPACE_QUERY],
        body: { content: json(secretSchema), example: { name: 'api-key', value: 's3cret' } },
        answers:
          method === 'post'
            ? { '201': { description: 'created', content: json(answers.secretNameSchema) }, '409': text('it exists') }
            : { '202': { description: 'changed', content: json(answers.secretNameSchema) }, '404': text('no such secret') },
      }),
    ),
    {
      method: 'delete',
      path: '/system/secrets',
      tag: 'Secrets',
      summary: 'Delete a secret',
      parameters: [NAMESPACE_QUERY],
      body: { content: json(secretRefSchema), example: { name: 'api-key' } },
      answers: { '202': empty('deleted'), '404': text('no such secret'), '409': text('functions use it (named)') },
    },

    // Store ---------------------------------------------------------------------------------------
    {
      method: 'get',
      path: BUILT_IN_PATH,
      tag: 'Store',
      summary: "The built-in function catalog, in OpenFaaS's store format",
      description: 'What `faas-cli store list --url` and `faas-cli store deploy --url` read. No credentials needed: it holds nothing secret.',
      answers: { '200': { description: 'the catalog', content: json(catalogSchema) } },
    },
    {
      method: 'get',
      path: '/system/store',
      tag: 'Store',
      summary: 'The catalog the store page shows, and where it came from',
      description: 'The catalog an admin chose, else STORE_URL, else the built-in one. A remote catalog is read by the gateway (5 s, 4 MB at most); one that fails is replaced by the built-in one, and `error` says why.',
      answers: { '200': { description: 'the catalog and its source', content: json(storeViewSchema) } },
    },
    {
      method: 'put',
      path: '/system/store',
      tag: 'Store',
      summary: "Choose the store page's catalog (kept for every gateway)",
      body: { content: json(storeChoiceSchema), example: { url: 'https://raw.githubusercontent.com/openfaas/store/master/functions.json' } },
      answers: { '200': { description: 'the catalog now shown', content: json(storeViewSchema) }, '400': text('not an http(s) URL'), '503': text('the choice cannot be kept (NATS cannot be reached)') },
    },

    // Builds ------------------------------------------------------------------------------------------
    ...(['/system/build', '/build'] as const).map((path) => ({
      method: 'post' as const,
      path,
      tag: 'Builds',
      summary: path === '/build' ? 'Build an image (the path faas-cli --remote-builder posts to; signed requests only)' : 'Build an image from a build context (the OpenFaaS Function Builder API)',
      description:
        "Relayed as it streams to the stack's builder (builder/README.md). The body is a tar holding com.openfaas.docker.config (the image name, build args, platforms) and context/ (the Dockerfile and the function). " +
        (path === '/build'
          ? 'Needs X-Build-Signature: sha256=<HMAC-SHA256 of the body with the payload secret>.'
          : 'Needs X-Build-Signature (HMAC-SHA256 of the body with the payload secret) or the basic-auth credentials.') +
        ' With Accept: application/x-ndjson the progress streams, one JSON object per line.',
      parameters: [
        { name: 'X-Build-Signature', in: 'header' as const, description: 'sha256=<hex HMAC-SHA256 of the body, keyed with the payload secret>' },
        { name: 'X-Build-No-Cache', in: 'header' as const, description: '1: run every step again (base images kept)' },
      ],
      body: { content: { 'application/x-tar': undefined } },
      answers: {
        '200': { description: 'the build result: {log, image, status, error?} (or NDJSON lines of it)', content: { 'application/json': undefined, 'application/x-ndjson': undefined } },
        '400': text('a build context that is wrong, named'),
        '401': text('no or a wrong signature'),
        '403': text('an image name the builder may not write'),
        '413': text('a build context larger than the limit'),
        '503': text('no builder, or it did not answer'),
      },
    })),

    // Functions written in the browser ------------------------------------------------------------
    {
      method: 'get',
      path: '/system/templates',
      tag: 'Builds',
      summary: 'The function templates and the files a new function starts from',
      description: "Read from TEMPLATE_DIR (template/<language>/). `builder` says whether the stack has a builder; `durable`, whether kept sources survive a restart (NATS).",
      answers: { '200': { description: 'the templates', content: json(templatesAnswerSchema) } },
    },
    {
      method: 'get',
      path: '/system/source/{name}',
      tag: 'Builds',
      summary: 'The kept source of a function written in the browser',
      parameters: [NAME],
      answers: { '200': { description: 'its template, files and settings, and the image built last', content: json(keptSourceSchema) }, '404': text('no source is kept for it'), '503': text('NATS cannot be reached') },
    },
    {
      method: 'post',
      path: '/system/source',
      tag: 'Builds',
      summary: 'Build a function from a template and its files, then deploy it (or roll it onto the new image)',
      description:
        "The template plus the files are packed into a build request for the stack's builder (as /system/build, vouched by the basic auth). The answer streams NDJSON: the builder's progress objects ({log, status: in_progress}), then {status: deployed, image, service, namespace, updated} or {status: failed, error}. A failed build deploys nothing. The source is kept (GET /system/source/{name}).",
      body: {
        content: json(sourceRequestSchema),
        example: { service: 'hello', template: 'node', files: { 'handler.js': 'export default async (req) => ({ status: 200, body: "hi" });\n', 'package.json': '{"name":"function","type":"module","dependencies":{}}' } },
      },
      answers: {
        '200': { description: 'the progress, one JSON object per line', content: { 'application/x-ndjson': undefined } },
        '400': text('a field that is wrong, named (the name, the template, labels, secrets)'),
        '413': text('a body larger than the limit'),
        '503': text('the stack has no builder'),
      },
    },

    // The gateway itself --------------------------------------------------------------------------
    { method: 'get', path: '/system/info', tag: 'Gateway', summary: 'Provider, orchestration and version (OpenFaaS shape)', answers: { '200': { description: 'the info', content: json(answers.infoSchema) } } },
    {
      method: 'get',
      path: '/system/openapi.json',
      tag: 'Gateway',
      summary: 'This document',
      answers: { '200': { description: 'the OpenAPI 3.1 document of the gateway', content: { 'application/json': { type: 'object' } } } },
    },
    { method: 'get', path: '/healthz', tag: 'Gateway', summary: 'Health', answers: { '200': text('OK once the functions were read'), '503': text('starting, or stopping (draining)') } },
    { method: 'get', path: '/metrics', tag: 'Gateway', summary: 'Prometheus metrics', answers: { '200': { description: 'the exposition format', content: { 'text/plain; version=0.0.4': { type: 'string' } } } } },
    { method: 'get', path: '/', tag: 'Web UI', summary: 'Redirect to the web UI', answers: { '302': empty('to /ui/') } },
    { method: 'get', path: '/ui', tag: 'Web UI', summary: 'Redirect to /ui/', answers: { '302': empty('to /ui/') } },
    {
      method: 'get',
      path: '/ui/{file}',
      tag: 'Web UI',
      summary: "The web UI's files (index.html for /ui/)",
      parameters: [{ name: 'file', in: 'path', description: 'a file of the UI (may hold "/"), e.g. js/main.js' }],
      answers: { '200': { description: 'the file', content: { 'text/html': undefined, 'text/javascript': undefined, 'text/css': undefined } }, '404': text('no such file') },
    },
  ];
  return docs.map((doc) => ({ ...doc, auth: needsAuth(doc.path.replace(/\{\w+\}/g, 'x')) }));
}
