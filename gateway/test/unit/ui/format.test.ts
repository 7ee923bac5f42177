// Numbers as the UI writes them.
import { describe, expect, it } from 'vitest';
import { formatAgo, formatBytes, formatCount, formatRate, formatSeconds } from '../../../ui/js/format.js';

describe('format', () => {
  it('writes rates with the precision that matters', () => {
    expect([null, undefined, Number.NaN, 0, 0.013, 0.5, 4.26, 12.3, 120.4].map(formatRate)).toEqual(['–', '–', '–', '0', '0.01', '0.5', '4.3', '12', '120']);
  });

  it('writes durations in ms below a second, in s above', () => {
    expect([null, 0, 0.0004, 0.0042, 0.25, 1.234, 12.34].map(formatSeconds)).toEqual(['–', '0 ms', '0.4 ms', '4 ms', '250 ms', '1.23 s', '12.3 s']);
  });

  it('writes how long ago, from just now to days', () => {
    expect([0, 2_000, 12_000, 89_000, 5 * 60_000, 3 * 3_600_000, 3 * 86_400_000].map(formatAgo)).toEqual(['just now', 'just now', '12 s ago', '89 s ago', '5 min ago', '3 h ago', '3 days ago']);
  });

  it('writes counts and sizes', () => {
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount('12')).toBe('–');
    expect([12, 2048, 5 * 1024 * 1024].map(formatBytes)).toEqual(['12 B', '2.0 KB', '5.0 MB']);
  });
});
