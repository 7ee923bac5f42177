// @ts-check
// Reads an OpenAPI document (the gateway's own, or one a function publishes:
// untrusted either way) into the operations the API page and a function's
// page list, and builds a try-it request from what the user typed. Pure: no
// DOM, no fetch. Everything kept is plain text, cut to a sane length; the
// views put it on the page as text only.

/**
 * @typedef {object} Parameter
 * @property {string} name
 * @property {'path' | 'query' | 'header'} in
 * @property {boolean} required
 * @property {string} description
 * @property {string} example
 */

/**
 * @typedef {object} Operation
 * @property {string} method upper case
 * @property {string} path the template, e.g. /system/function/{name}
 * @property {string} tag
 * @property {string} summary
 * @property {string} description
 * @property {Parameter[]} parameters
 * @property {{contentType: string, example: string, required: boolean} | null} body
 * @property {Array<{status: string, description: string}>} responses
 * @property {boolean} auth it names a security requirement
 */

/**
 * Operations of one path that document the same thing (an "any method"
 * route): one entry with several methods.
 * @typedef {object} OperationGroup
 * @property {string} key "GET,POST /path"
 * @property {string[]} methods
 * @property {Operation} operation the first method's (the others share its words)
 */

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const MAX_OPERATIONS = 1000;
const MAX_TEXT = 2000;

/** @param {unknown} v @param {number} [max] */
const str = (v, max = MAX_TEXT) => (typeof v === 'string' ? v.slice(0, max) : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

/** @param {unknown} v @returns {v is Record<string, any>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Follows a local reference (#/components/...) once; anything else is taken as it is.
 * @param {Record<string, any>} doc
 * @param {unknown} value
 * @returns {unknown}
 */
function deref(doc, value) {
  if (!isObject(value) || typeof value.$ref !== 'string') return value;
  const ref = value.$ref;
  if (!ref.startsWith('#/')) return {};
  /** @type {unknown} */
  let node = doc;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) || !Object.prototype.hasOwnProperty.call(node, key)) return {};
    node = node[key];
  }
  return isObject(node) && typeof node.$ref === 'string' ? {} : node;
}

/**
 * An example value for a JSON Schema: its example, default or const, else
 * one made from its type (objects: their required properties). Bounded depth.
 * @param {Record<string, any>} doc
 * @param {unknown} schemaIn
 * @param {number} [depth]
 * @returns {unknown}
 */
export function exampleOf(doc, schemaIn, depth = 0) {
  const schema = deref(doc, schemaIn);
  if (!isObject(schema) || depth > 6) return undefined;
  if ('example' in schema) return schema.example;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ('default' in schema) return schema.default;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const choice = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(choice)) return exampleOf(doc, choice.find((c) => !(isObject(c) && c.type === 'null')) ?? choice[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((/** @type {unknown} */ t) => t !== 'null') : schema.type;
  if (type === 'object' || isObject(schema.properties)) {
    /** @type {Record<string, unknown>} */
    const out = {};
    const props = isObject(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? schema.required.filter((/** @type {unknown} */ r) => typeof r === 'string') : [];
    for (const key of required.slice(0, 30)) out[key] = exampleOf(doc, props[key], depth + 1) ?? null;
    return out;
  }
  if (type === 'array') return [];
  if (type === 'string') return 'string';
  if (type === 'integer' || type === 'number') return 0;
  if (type === 'boolean') return false;
  return undefined;
}

/**
 * The operations of an OpenAPI 3.x (or Swagger 2.0) document, in its order.
 * Throws an Error saying why when it is no such document.
 * @param {unknown} doc
 * @returns {Operation[]}
 */
export function operationsOf(doc) {
  if (!isObject(doc)) throw new Error('it is not a JSON object');
  const version = str(doc.openapi) || str(doc.swagger);
  if (!/^(3\.\d+(\.\d+)?|2\.0)$/.test(version)) throw new Error('it is not an OpenAPI document (no "openapi": "3.x" field)');
  if (!isObject(doc.paths)) throw new Error('it has no "paths" object');
  /** @type {Operation[]} */
  const operations = [];
  for (const [path, itemIn] of Object.entries(doc.paths)) {
    const item = deref(doc, itemIn);
    if (!isObject(item) || !path.startsWith('/')) continue;
    const shared = Array.isArray(item.parameters) ? item.parameters : [];
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      if (operations.length >= MAX_OPERATIONS) throw new Error(`it lists more than ${MAX_OPERATIONS} operations`);
      /** @type {Map<string, Parameter>} */
      const params = new Map();
      for (const raw of [...shared, ...(Array.isArray(op.parameters) ? op.parameters : [])]) {
        const p = deref(doc, raw);
        if (!isObject(p)) continue;
        const where = str(p.in);
        if (where !== 'path' && where !== 'query' && where !== 'header') continue;
        const name = str(p.name, 200);
        if (!name) continue;
        // Only an example the document gives: a made-up "string" in a field would be sent as it is.
        const schema = deref(doc, p.schema);
        const example = p.example ?? (isObject(schema) ? (schema.example ?? schema.default) : undefined);
        params.set(`${where}:${name}`, { name, in: where, required: where === 'path' || p.required === true, description: str(p.description), example: example === undefined || isObject(example) ? '' : str(example) });
      }
      // A {name} of the template that the document forgot is a parameter all the same.
      for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) {
        if (name && !params.has(`path:${name}`)) params.set(`path:${name}`, { name, in: 'path', required: true, description: '', example: '' });
      }
      operations.push({
        method: method.toUpperCase(),
        path: str(path),
        tag: str(Array.isArray(op.tags) ? op.tags[0] : '', 100) || 'other',
        summary: str(op.summary, 300),
        description: str(op.description),
        parameters: [...params.values()],
        body: bodyOf(doc, op),
        responses: isObject(op.responses)
          ? Object.entries(op.responses)
              .slice(0, 50)
              .map(([status, r]) => {
                const answer = deref(doc, r);
                return { status: str(status, 10), description: isObject(answer) ? str(answer.description, 500) : '' };
              })
          : [],
        auth: Array.isArray(op.security) ? op.security.length > 0 : Array.isArray(doc.security) && doc.security.length > 0,
      });
    }
  }
  return operations;
}

/**
 * @param {Record<string, any>} doc
 * @param {Record<string, any>} op
 * @returns {Operation['body']}
 */
function bodyOf(doc, op) {
  const body = deref(doc, op.requestBody);
  if (!isObject(body) || !isObject(body.content)) return null;
  const types = Object.keys(body.content);
  const contentType = types.find((t) => /json/i.test(t)) ?? types[0];
  if (contentType === undefined) return null;
  const media = deref(doc, body.content[contentType]);
  let example = '';
  if (isObject(media)) {
    const value = media.example ?? exampleOf(doc, media.schema);
    if (value !== undefined) example = typeof value === 'string' && !/json/i.test(contentType) ? value : JSON.stringify(value, null, 2);
  }
  return { contentType: contentType === '*/*' ? 'text/plain' : str(contentType, 200), example: example.slice(0, 20_000), required: body.required === true };
}

/**
 * Operations of a path with the same words, as one entry (routes that take any method).
 * @param {Operation[]} operations
 * @returns {OperationGroup[]}
 */
export function groupOperations(operations) {
  /** @type {Map<string, {methods: string[], operation: Operation}>} */
  const groups = new Map();
  for (const op of operations) {
    const key = `${op.path}\u0000${op.summary}\u0000${op.description}`;
    const group = groups.get(key);
    if (group) group.methods.push(op.method);
    else groups.set(key, { methods: [op.method], operation: op });
  }
  return [...groups.values()].map((g) => ({ key: `${g.methods.join(',')} ${g.operation.path}`, methods: g.methods, operation: g.operation }));
}

/**
 * The path and query of a try-it request, from the values the user typed.
 * Path parameters are encoded (one that may hold "/", such as {path}, keeps
 * its slashes, each segment encoded); empty query parameters are left out.
 * Throws when a required parameter is empty.
 * @param {string} base e.g. "" (the gateway) or "/function/echo" (a function's own API)
 * @param {Pick<Operation, 'path' | 'parameters'>} op
 * @param {Record<string, string>} values by "in:name"
 * @returns {{url: string, headers: Record<string, string>}}
 */
export function requestOf(base, op, values) {
  const missing = op.parameters.filter((p) => p.required && (values[`${p.in}:${p.name}`] ?? '') === '').map((p) => p.name);
  if (missing.length > 0) throw new Error(`Fill in ${missing.join(', ')}.`);
  const path = op.path.replace(/\{([^}]+)\}/g, (_, /** @type {string} */ name) => {
    const value = values[`path:${name}`] ?? '';
    return value.split('/').map(encodeURIComponent).join('/');
  });
  const query = new URLSearchParams();
  /** @type {Record<string, string>} */
  const headers = {};
  for (const p of op.parameters) {
    const value = values[`${p.in}:${p.name}`] ?? '';
    if (value === '') continue;
    if (p.in === 'query') query.append(p.name, value);
    if (p.in === 'header') headers[p.name] = value;
  }
  const search = query.toString();
  const url = `${base}${path}${search ? `?${search}` : ''}`;
  // A function's operations stay under the function: no "..", however spelt, leads out of it.
  if (base !== '') {
    const resolved = resolvedPath(url.split('?')[0] ?? '');
    if (resolved !== base && !resolved.startsWith(`${base}/`)) throw new Error(`The request would leave ${base}: not sent.`);
  }
  return { url, headers };
}

/**
 * A path with its dot segments resolved the way the gateway resolves them ("%2e" counts as ".").
 * @param {string} path
 */
export function resolvedPath(path) {
  /** @type {string[]} */
  const out = [];
  const segments = path.replace(/%2e/gi, '.').split('/');
  segments.forEach((segment, i) => {
    if (segment === '..') out.pop();
    else if (segment !== '.' && (segment !== '' || i === segments.length - 1)) out.push(segment);
  });
  return `/${out.join('/')}`;
}
