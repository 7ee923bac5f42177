// @ts-check
// The radio group of chart windows (history.js's WINDOWS) that the overview
// and a function's chart both offer.
import { segmented } from '../dom.js';
import { WINDOWS } from '../history.js';

/**
 * @param {string} label what the group is called (aria-label)
 * @param {string} value the window chosen at first
 * @param {(value: string) => void} onChange
 */
export function windowPicker(label, value, onChange) {
  return segmented({ label, choices: WINDOWS.map((w) => ({ value: w.name, label: w.label })), value, onChange });
}
