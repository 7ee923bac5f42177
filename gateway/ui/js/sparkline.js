// @ts-check
// Small charts for the list and the overview: the invocation rate over the
// window (line), optionally with the desired replicas (step line) on their
// own scale. Decorative next to the numbers they sit by (aria-hidden).
import { s } from './dom.js';
import { linePath, stepPath } from './chart.js';
import { scale } from './chart-scale.js';

/** @typedef {import('./chart-data.js').SummaryData} SummaryData */

/**
 * @param {SummaryData} data
 * @param {{width: number, height: number, replicas?: boolean}} size
 */
export function sparkline(data, { width, height, replicas = false }) {
  const x = scale(data.start, data.end, 0, width);
  const rateMax = Math.max(1, ...data.rate.map((p) => p.v ?? 0));
  const yRate = scale(0, rateMax, height - 1, 1);
  const replicaMax = Math.max(1, ...data.replicas.map((p) => p.v ?? 0));
  const yRep = scale(0, replicaMax, height - 1, 1);
  return s(
    'svg',
    {
      class: 'spark',
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      'aria-hidden': 'true',
      focusable: 'false',
      'data-history-points': data.historyPoints,
      'data-peak-rate': data.rate.reduce((peak, p) => Math.max(peak, p.v ?? 0), 0),
    },
    replicas ? s('path', { class: 'spark-replicas', d: stepPath(data.replicas, x, yRep, width) }) : null,
    s('path', { class: 'spark-rate', d: linePath(data.rate, x, yRate) }),
  );
}
