// @ts-check
// What the function page and the list say about a function's tasks: one row
// per task (its node, Swarm's state, whether it receives traffic, since
// when, the engine's error), and why the function has fewer tasks than it
// wants. Pure: the views turn these into elements.
import { formatAgo } from './format.js';

/**
 * @typedef {import('./types.js').Instance} Instance
 * @typedef {import('./types.js').FunctionStatus} FunctionStatus
 */

/**
 * @typedef {object} InstanceRow
 * @property {string} id the task id, shortened as docker does (12 characters)
 * @property {string} fullId
 * @property {string} node
 * @property {string} state
 * @property {string} traffic "receives traffic" or "no traffic"; with a concurrency limit, "1 of 2 in flight"
 * @property {boolean} ready
 * @property {string} since "12 s ago", or "" when unknown
 * @property {string} sinceIso
 * @property {string} error
 * @property {'ok' | 'busy' | 'bad'} tone how it looks: running and ready, on its way, or failed
 */

const FAILED = new Set(['failed', 'rejected', 'orphaned']);
const ON_THE_WAY = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'shutdown', 'complete', 'remove']);

/**
 * Rows for the tasks table: failing tasks first (they need attention), then
 * by node and age.
 * @param {unknown} instances `instances` of GET /system/function/{name} (absent before the gateway sends it)
 * @param {number} now
 * @param {number} [limit] the function's concurrency limit per replica (com.openfaas.concurrency)
 * @returns {InstanceRow[] | null} null when the gateway sent no task list
 */
export function instanceRows(instances, now, limit) {
  if (!Array.isArray(instances)) return null;
  const rows = instances
    .filter((i) => i && typeof i === 'object')
    .map((/** @type {Instance} */ i) => {
      const state = String(i.state ?? 'unknown');
      const ready = i.ready === true;
      const sinceMs = i.since ? Date.parse(i.since) : Number.NaN;
      const error = typeof i.error === 'string' ? i.error.trim() : '';
      /** @type {InstanceRow['tone']} */
      const tone = FAILED.has(state) || error ? 'bad' : ready && state === 'running' ? 'ok' : ON_THE_WAY.has(state) || !ready ? 'busy' : 'ok';
      return {
        id: String(i.id ?? '').slice(0, 12),
        fullId: String(i.id ?? ''),
        node: String(i.node || '–'),
        state,
        ready,
        traffic: !ready ? 'no traffic' : limit !== undefined && typeof i.inflight === 'number' ? `${i.inflight} of ${limit} in flight` : 'receives traffic',
        since: Number.isFinite(sinceMs) ? formatAgo(Math.max(0, now - sinceMs)) : '',
        sinceIso: Number.isFinite(sinceMs) ? new Date(sinceMs).toISOString() : '',
        error,
        tone,
      };
    });
  const rank = { bad: 0, busy: 1, ok: 2 };
  return rows.sort((a, b) => rank[a.tone] - rank[b.tone] || a.node.localeCompare(b.node) || b.sinceIso.localeCompare(a.sinceIso));
}

/**
 * "3 tasks: 2 on node-1, 1 on node-2" (nodes of the tasks that run or start).
 * @param {InstanceRow[]} rows
 */
export function nodeSummary(rows) {
  const live = rows.filter((r) => r.tone !== 'bad');
  if (live.length === 0) return rows.length === 0 ? 'no tasks' : `${rows.length} failed task${rows.length === 1 ? '' : 's'}`;
  /** @type {Map<string, number>} */
  const perNode = new Map();
  for (const r of live) perNode.set(r.node, (perNode.get(r.node) ?? 0) + 1);
  const parts = [...perNode].sort(([a], [b]) => a.localeCompare(b)).map(([node, n]) => `${n} on ${node}`);
  return `${live.length} task${live.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

/**
 * Why the function has fewer tasks than it wants, in words for a banner, or
 * null. The gateway's `unavailableReason` when it sends one; otherwise the
 * newest engine error among its tasks while tasks are missing.
 * @param {Partial<FunctionStatus> | undefined} fn
 * @returns {string | null}
 */
export function unavailableReasonOf(fn) {
  if (!fn) return null;
  const reason = typeof fn.unavailableReason === 'string' ? fn.unavailableReason.trim() : '';
  if (reason) return reason;
  const wanted = Number(fn.replicas) || 0;
  const available = Number(fn.availableReplicas ?? fn.replicas) || 0;
  if (available >= wanted || !Array.isArray(fn.instances)) return null;
  const failing = fn.instances
    .filter((i) => i && typeof i.error === 'string' && i.error.trim() !== '')
    .sort((a, b) => String(b.since ?? '').localeCompare(String(a.since ?? '')));
  return failing[0]?.error?.trim() ?? null;
}
