import { describe, expect, it } from 'vitest';
import { splitCommandLine } from '../../src/command-line.js';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('fprocess is split into words without a shell', () => {
  it.each([
    ['cat', ['cat']],
    ['  wc   -l ', ['wc', '-l']],
    [`sh -c 'echo "$HOME"; exit 3'`, ['sh', '-c', 'echo "$HOME"; exit 3']],
    [`node "/home/app/my fn.js" a\\ b`, ['node', '/home/app/my fn.js', 'a b']],
    ['echo $(id) ; rm -rf / | x', ['echo', '$(id)', ';', 'rm', '-rf', '/', '|', 'x']],
    [`printf ""`, ['printf', '']],
  ])('%s', (line, words) => {
    expect(splitCommandLine(line)).toEqual(words);
  });
});

describe('configuration from the environment', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({ fprocess: 'cat' });
    expect(c).toMatchObject({
      mode: 'classic',
      command: ['cat'],
      readTimeoutMs: 5000,
      writeTimeoutMs: 5000,
      execTimeoutMs: 10000,
      writeDebug: false,
      cgiHeaders: true,
      marshalRequest: false,
      contentType: undefined,
      suppressLock: false,
      maxInflight: 0,
      port: 8080,
      maxOutputBytes: 64 * 1024 * 1024,
      spawner: 'auto',
      logRequests: true,
    });
    expect(loadConfig({ fprocess: 'cat', log_requests: 'false' }).logRequests).toBe(false);
  });

  it.each([
    ['1048576', 1048576],
    ['512Ki', 512 * 1024],
    ['64Mi', 64 * 1024 * 1024],
    ['2Gi', 2 * 1024 ** 3],
    ['100M', 100e6],
    ['10k', 10_000],
    ['1.5Mi', 1.5 * 1024 * 1024],
    ['64MiB', 64 * 1024 * 1024],
  ])('max_output=%s is %i bytes', (text, bytes) => {
    expect(loadConfig({ fprocess: 'cat', max_output: text }).maxOutputBytes).toBe(bytes);
  });

  it('reads every option, durations as seconds or Go durations', () => {
    const c = loadConfig({
      fprocess: 'node server.js',
      mode: 'http',
      upstream_url: 'http://127.0.0.1:3000',
      read_timeout: '2',
      write_timeout: '1m30s',
      exec_timeout: '250ms',
      write_debug: 'true',
      cgi_headers: 'false',
      marshal_request: '1',
      content_type: 'text/html',
      suppress_lock: 'TRUE',
      max_inflight: '7',
    });
    expect(c).toMatchObject({
      mode: 'http',
      readTimeoutMs: 2000,
      writeTimeoutMs: 90_000,
      execTimeoutMs: 250,
      writeDebug: true,
      cgiHeaders: false,
      marshalRequest: true,
      contentType: 'text/html',
      suppressLock: true,
      maxInflight: 7,
    });
    expect(c.upstreamUrl?.port).toBe('3000');
  });

  it.each([
    [{}, 'fprocess'],
    [{ fprocess: `sh -c 'oops` }, 'fprocess'],
    [{ fprocess: 'cat', read_timeout: 'soon' }, 'read_timeout'],
    [{ fprocess: 'cat', write_timeout: '-1' }, 'write_timeout'],
    [{ fprocess: 'cat', exec_timeout: '10 s' }, 'exec_timeout'],
    [{ fprocess: 'cat', write_debug: 'maybe' }, 'write_debug'],
    [{ fprocess: 'cat', cgi_headers: 'yess' }, 'cgi_headers'],
    [{ fprocess: 'cat', marshal_request: '2' }, 'marshal_request'],
    [{ fprocess: 'cat', suppress_lock: 'x' }, 'suppress_lock'],
    [{ fprocess: 'cat', max_inflight: '-3' }, 'max_inflight'],
    [{ fprocess: 'cat', max_inflight: '1.5' }, 'max_inflight'],
    [{ fprocess: 'cat', mode: 'streaming' }, 'mode'],
    [{ fprocess: 'cat', mode: 'http' }, 'upstream_url'],
    [{ fprocess: 'cat', mode: 'http', upstream_url: 'not a url' }, 'upstream_url'],
    [{ fprocess: 'cat', max_output: 'lots' }, 'max_output'],
    [{ fprocess: 'cat', max_output: '0' }, 'max_output'],
    [{ fprocess: 'cat', max_output: '-5Mi' }, 'max_output'],
    [{ fprocess: 'cat', spawner: 'fast' }, 'spawner'],
  ])('rejects %j naming %s', (env, variable) => {
    let error: unknown;
    try {
      loadConfig(env as Record<string, string>);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
    expect((error as Error).message).toMatch(new RegExp(`^${variable}: `));
  });
});
