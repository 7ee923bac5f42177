// @ts-check
// Axes of the charts: round maxima, tick spacing and labels. Pure.

/**
 * Smallest "round" number (1, 2, 5 x 10^n) at or above v, at least `floor`.
 * @param {number} v
 * @param {number} [floor]
 */
export function niceCeil(v, floor = 1) {
  if (!(v > floor)) return floor;
  const power = 10 ** Math.floor(Math.log10(v));
  const m = v / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/**
 * Top of the rate axis: four grid steps of a round size, at least 0.5 req/s each.
 * @param {number} peak
 */
export function rateAxisMax(peak) {
  return 4 * niceCeil(Math.max(0, peak) / 4, 0.5);
}

/**
 * Top of the replicas axis: a multiple of 4 (whole replicas on every grid line), at least 4.
 * @param {number} peak
 */
export function replicaAxisMax(peak) {
  return 4 * Math.max(1, Math.ceil(Math.max(0, peak) / 4));
}

const TICK_CHOICES_MS = [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200].map((s) => s * 1000);

/**
 * Spacing of the time ticks: the smallest of the usual spacings that gives
 * at most `most` intervals over the span.
 * @param {number} spanMs
 * @param {number} [most]
 */
export function tickEvery(spanMs, most = 6) {
  return TICK_CHOICES_MS.find((every) => spanMs / every <= most) ?? /** @type {number} */ (TICK_CHOICES_MS.at(-1));
}

/**
 * "-45s", "-5m", "-1h", "-1h30m", "-24h"
 * @param {number} ms how long ago
 */
export function agoLabel(ms) {
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (seconds <= 0) return 'now';
  return `-${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 ? `${s}s` : ''}`;
}

/**
 * A linear map from [d0, d1] to [r0, r1], clamped to the range.
 * @param {number} d0
 * @param {number} d1
 * @param {number} r0
 * @param {number} r1
 * @returns {(v: number) => number}
 */
export function scale(d0, d1, r0, r1) {
  const span = d1 - d0 || 1;
  return (v) => r0 + Math.max(0, Math.min(1, (v - d0) / span)) * (r1 - r0);
}
