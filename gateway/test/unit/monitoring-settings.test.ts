// PROMETHEUS_URL and ALERTMANAGER_URL: defaults for the stack, and a bad
// value stops the gateway with a message naming the variable.
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/programs/gateway/settings.js';

describe('monitoring settings', () => {
  it('default to the stack services on the monitoring network', () => {
    const config = loadConfig({});
    expect(config.PROMETHEUS_URL).toBe('http://prometheus:9090');
    expect(config.ALERTMANAGER_URL).toBe('http://alertmanager:9093');
  });

  it('take any http(s) URL', () => {
    const config = loadConfig({ PROMETHEUS_URL: 'https://metrics.example:8443/prom', ALERTMANAGER_URL: 'http://10.0.0.7:9093' });
    expect(config.PROMETHEUS_URL).toBe('https://metrics.example:8443/prom');
    expect(config.ALERTMANAGER_URL).toBe('http://10.0.0.7:9093');
  });

  it.each([
    ['PROMETHEUS_URL', 'prometheus:9090'],
    ['PROMETHEUS_URL', 'ftp://prometheus'],
    ['ALERTMANAGER_URL', 'not a url'],
  ])('refuse %s=%s by name', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });
});
