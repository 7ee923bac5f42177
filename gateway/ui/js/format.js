// @ts-check
// Number, time and size formatting shared by the views.

/** @param {unknown} n */
export function formatCount(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US');
}

/**
 * Requests per second with sensible precision ("0", "0.5", "12.3", "120").
 * @param {number | null | undefined} rate
 */
export function formatRate(rate) {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '–';
  if (rate === 0) return '0';
  if (rate < 0.05) return rate.toFixed(2);
  if (rate < 10) return rate.toFixed(1);
  return Math.round(rate).toString();
}

/** @param {number} n bytes */
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Seconds as "4 ms", "1.25 s", "0.4 ms".
 * @param {number | null | undefined} seconds
 */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  if (seconds > 0 && seconds < 0.001) return `${(seconds * 1000).toFixed(1)} ms`;
  if (seconds < 1) return `${Math.max(0, Math.round(seconds * 1000))} ms`;
  return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
}

/** @param {string | number | Date} time */
export function formatClock(time) {
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) return String(time);
  return d.toLocaleTimeString('en-GB', { hour12: false });
}

/**
 * "just now", "12 s ago", "3 min ago", "2 h ago", "3 days ago"
 * @param {number} ms
 */
export function formatAgo(ms) {
  const seconds = Math.round(ms / 1000);
  if (seconds < 3) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 36) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}
