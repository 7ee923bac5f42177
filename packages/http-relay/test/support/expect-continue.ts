// A POST sent as curl sends a body above 1 KB: with Expect: 100-continue, the
// body only once the server has said 100 Continue. For the tests of each
// relay of request bodies (the gateway's proxy, the watchdog's HTTP mode).
import { request } from 'node:http';

export async function postWithContinue(url: string, path: string, payload: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method: 'POST', headers: { expect: '100-continue', 'content-length': payload.length } });
    req.on('continue', () => req.end(payload));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
  });
}
