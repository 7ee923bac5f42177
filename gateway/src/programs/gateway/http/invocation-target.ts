// Which requests are invocations, decided before Koa sees them: the gateway's
// hot path (/function/<name>[/<path...>]) skips Koa's context, middleware and
// router, which cost ~20 % of an invocation's CPU in the gateway. The path is
// normalised exactly as the Koa app does for auth and routing, so both agree
// on what a path is; anything this does not take (odd spellings, absolute-form
// URLs) still reaches the same invocation through the Koa route.
import { normalisePath } from './normalise-path.js';

export interface InvocationTarget {
  /** The function's name, percent-decoded like a router parameter. */
  name: string;
  /** What the function is sent: the path after /function/<name> ("/" when none) and the query as the client wrote it. */
  path: string;
}

const PREFIX = '/function/';

export function invocationTarget(rawUrl: string): InvocationTarget | undefined {
  if (!rawUrl.startsWith('/')) return undefined;
  const queryAt = rawUrl.indexOf('?');
  const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const query = queryAt === -1 || queryAt === rawUrl.length - 1 ? '' : rawUrl.slice(queryAt);
  const normalised = normalisePath(rawPath);
  if (!normalised.ok || !normalised.path.startsWith(PREFIX)) return undefined;
  const rest = normalised.path.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  const segment = slash === -1 ? rest : rest.slice(0, slash);
  if (segment === '') return undefined;
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    return undefined; // malformed escape: the Koa app answers it
  }
  return { name, path: (slash === -1 ? '/' : rest.slice(slash)) + query };
}
