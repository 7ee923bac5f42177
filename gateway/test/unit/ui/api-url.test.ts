// Every request of the UI is built against the page's origin, without the
// user-info part: a page opened as http://user:password@host/ui/ must still
// be able to call the gateway (fetch refuses URLs with credentials).
import { describe, expect, it } from 'vitest';
import { apiUrl } from '../../../ui/js/api.js';

describe('apiUrl', () => {
  it('joins a path to the origin', () => {
    expect(apiUrl('/system/functions', 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/system/functions');
    expect(apiUrl('/system/function/a%20b/history?window=15m', 'https://gw.example')).toBe('https://gw.example/system/function/a%20b/history?window=15m');
  });

  it('leaves out the credentials a page address carries, where resolving against the page keeps them', () => {
    const page = 'http://admin:s3cret@127.0.0.1:8080/ui/#/fn/echoit';
    // What the UI did before: the relative URL resolved against the page's address, credentials and all.
    const naive = new URL('/system/functions', page).href;
    expect(naive).toBe('http://admin:s3cret@127.0.0.1:8080/system/functions');
    expect(() => new Request(naive)).toThrow(/credentials/);
    // The page's origin never has them; apiUrl also drops them from anything it is handed.
    const built = apiUrl('/system/functions', page);
    expect(built).toBe('http://127.0.0.1:8080/system/functions');
    expect(new Request(built).url).toBe(built);
  });

  it('refuses a path that would leave the gateway', () => {
    expect(() => apiUrl('//elsewhere.example/x', 'http://127.0.0.1:8080')).toThrow(/not a path of the gateway/);
    expect(() => apiUrl('http://elsewhere.example/x', 'http://127.0.0.1:8080')).toThrow(/not a path of the gateway/);
  });
});
