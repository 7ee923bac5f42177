// @ts-check
// The gateway's routes for functions written in the browser (routes/source.ts):
// the templates, a function's kept source, and build-then-deploy, whose NDJSON
// progress is read line by line as it arrives.
import { ApiError, apiUrl } from './api.js';

/**
 * @typedef {{language: string, welcome: string, files: Record<string, string>}} TemplateInfo
 * @typedef {{builder: boolean, durable: boolean, templates: TemplateInfo[]}} TemplatesAnswer
 * @typedef {{service: string, namespace: string, template: string, files: Record<string, string>, envVars?: Record<string, string>, secrets?: string[], labels?: Record<string, string>, image: string, updatedAt: string}} KeptSource
 * @typedef {{status: string, log?: string[], error?: string, image?: string, service?: string, updated?: boolean, built?: boolean}} BuildLine
 */

/** @param {Response} res */
async function refusal(res) {
  const text = (await res.text().catch(() => '')).trim();
  if (res.status === 401) return new ApiError(401, 'Not signed in (401): reload the page and enter the gateway credentials.');
  return new ApiError(res.status, text || `HTTP ${res.status}`);
}

/** @returns {Promise<TemplatesAnswer>} */
export async function listTemplates() {
  const res = await fetch(apiUrl('/system/templates'), { cache: 'no-store', credentials: 'same-origin' });
  if (!res.ok) throw await refusal(res);
  return res.json();
}

/**
 * @param {string} name
 * @returns {Promise<KeptSource | undefined>} undefined: no source is kept for it
 */
export async function keptSource(name) {
  const res = await fetch(apiUrl(`/system/source/${encodeURIComponent(name)}`), { cache: 'no-store', credentials: 'same-origin' });
  if (res.status === 404) return undefined;
  if (!res.ok) throw await refusal(res);
  return res.json();
}

/**
 * Builds and deploys; calls onLine with each progress object as it arrives.
 * @param {Record<string, unknown>} body
 * @param {(line: BuildLine) => void} onLine
 * @param {AbortSignal} [signal]
 * @returns {Promise<BuildLine>} the last object ({status: "deployed"} or {status: "failed"})
 */
export async function buildSource(body, onLine, signal) {
  const res = await fetch(apiUrl('/system/source'), {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/x-ndjson' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok || !res.body) throw await refusal(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  /** @type {BuildLine} */
  let last = { status: 'failed', error: 'the gateway stopped answering before the build ended' };
  let pending = '';
  const take = (/** @type {string} */ line) => {
    if (!line.trim()) return;
    try {
      last = JSON.parse(line);
    } catch {
      return;
    }
    onLine(last);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    lines.forEach(take);
  }
  take(pending);
  if (last.status !== 'deployed' && last.status !== 'failed') last = { status: 'failed', error: 'the gateway stopped answering before the build ended' };
  return last;
}

/**
 * The lines of the user's files a failed build's log points at: Node's
 * "…/function/handler.js:3", Python's 'File "…/function/handler.py", line 3'.
 * @param {string[]} log
 * @returns {{file: string, line: number, text: string}[]}
 */
export function failingLines(log) {
  /** @type {{file: string, line: number, text: string}[]} */
  const out = [];
  const seen = new Set();
  for (const [i, text] of log.entries()) {
    const match = /function\/([\w.-]+):(\d+)/.exec(text) ?? /File "[^"]*function\/([\w.-]+)", line (\d+)/.exec(text);
    if (!match) continue;
    const file = /** @type {string} */ (match[1]);
    const line = Number(match[2]);
    const key = `${file}:${line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    // The message is usually a few lines below the location (the code and the caret between).
    const message = log.slice(i + 1, i + 6).find((l) => /Error|error:|Exception/.test(l)) ?? text;
    // BuildKit's step and time prefix ("#12 0.41 ") is the log's, not the message's.
    out.push({ file, line, text: message.replace(/^#\d+ [\d.]+ /, '').trim() });
  }
  return out;
}
