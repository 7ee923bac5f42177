// Number, time and size formatting shared by the views.

export function formatCount(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US');
}

/** Requests per second with sensible precision ("0", "0.5", "12.3", "120"). */
export function formatRate(rate) {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return '–';
  if (rate === 0) return '0';
  if (rate < 10) return rate.toFixed(1);
  return Math.round(rate).toString();
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Seconds as "4 ms", "1.25 s". */
export function formatSeconds(seconds) {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 1) return `${Math.max(0, Math.round(seconds * 1000))} ms`;
  return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
}

export function formatClock(time) {
  const d = new Date(time);
  if (Number.isNaN(d.getTime())) return String(time);
  return d.toLocaleTimeString('en-GB', { hour12: false });
}

/** "just now", "12 s ago", "3 min ago" */
export function formatAgo(ms) {
  const seconds = Math.round(ms / 1000);
  if (seconds < 3) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  return `${Math.round(seconds / 60)} min ago`;
}
