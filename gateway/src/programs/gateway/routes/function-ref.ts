// Which function a /system request means: "<name>" or "<name>.<namespace>"
// in the path, or ?namespace= (OpenFaaS clients send either), else the
// default namespace.
import type { Context } from 'koa';
import { NAMESPACE_NAME, parseFunctionName } from '../../../core/functions/names.js';
import { HttpError } from '../http/errors.js';
import type { FunctionRef } from '../provider/types.js';

/** The ?namespace= of a request, validated; undefined when absent or empty. */
export function namespaceParam(ctx: Context): string | undefined {
  const raw = ctx.query.namespace;
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value === '') return undefined;
  if (!NAMESPACE_NAME.test(value)) throw new HttpError(400, `invalid request: namespace: ${JSON.stringify(value)} is not a namespace name`);
  return value;
}

export function functionRefOf(ctx: Context, name: string, defaultNamespace: string): FunctionRef {
  const ref = parseFunctionName(name, defaultNamespace);
  const fromQuery = namespaceParam(ctx);
  if (fromQuery && name.includes('.') && fromQuery !== ref.namespace) {
    throw new HttpError(400, `invalid request: namespace ${fromQuery} does not match the function ${name}`);
  }
  return fromQuery && !name.includes('.') ? { name, namespace: fromQuery } : ref;
}
