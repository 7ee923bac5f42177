/**
 * The environment a classic-mode process gets: the watchdog's own, plus (with
 * cgi_headers) each request header as Http_<Name> (Go's canonical header
 * form with '-' turned into '_', as the 2017 watchdog wrote them: Content-Type
 * -> Http_Content_Type), and Http_Method, Http_Query, Http_Path.
 */
import type { IncomingMessage } from 'node:http';

/** "x-forwarded-for" -> "X-Forwarded-For" (Go's CanonicalMIMEHeaderKey). */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/**
 * The request's own variables, to lay over the watchdog's environment: a
 * value of undefined removes the variable (Http_Query without a query).
 */
export function requestVars(req: IncomingMessage): Map<string, string | undefined> {
  const vars = new Map<string, string | undefined>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = `Http_${canonicalHeaderName(raw[i]!).replaceAll('-', '_')}`;
    if (!vars.has(name)) vars.set(name, raw[i + 1]!); // first value wins, as in the original
  }
  // Set last, so that a header named "Method" or "Path" cannot fake them.
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  vars.set('Http_Method', req.method ?? 'GET');
  vars.set('Http_Path', q === -1 ? url : url.slice(0, q));
  vars.set('Http_Query', q !== -1 && q < url.length - 1 ? url.slice(q + 1) : undefined);
  return vars;
}

/** Request headers in Go's http.Header shape (canonical name -> values), for marshal_request. */
export function goHeader(req: IncomingMessage): Record<string, string[]> {
  const header: Record<string, string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = canonicalHeaderName(raw[i]!);
    (header[name] ??= []).push(raw[i + 1]!);
  }
  return header;
}
