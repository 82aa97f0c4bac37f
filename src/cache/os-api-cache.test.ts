import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { getConfig } from '../config.ts';
import { clearOsApiCache, contextKey, parseCacheAddress } from './os-api-cache.ts';
import { RespParser, encodeCommand, redisCommands } from './resp.ts';

describe('os-api cache address', () => {
  it('accepts a host, host:port or a redis:// URL and defaults to port 6379, database 1', () => {
    expect(parseCacheAddress('redis')).toEqual({ hostname: 'redis', port: 6379, db: '1' });
    expect(parseCacheAddress('cache.local:6380')).toEqual({ hostname: 'cache.local', port: 6380, db: '1' });
    expect(parseCacheAddress('redis://10.0.0.5:7000/3')).toEqual({ hostname: '10.0.0.5', port: 7000, db: '3' });
    expect(() => parseCacheAddress('http://x')).toThrow(/redis/);
  });

  it('uses os-api-cache context keys', () => {
    expect(contextKey('abc:my-budget')).toBe('ctx:"abc:my-budget"');
  });
});

describe('RESP', () => {
  it('encodes commands as arrays of bulk strings', () => {
    expect(new TextDecoder().decode(encodeCommand(['DEL', 'k€']))).toBe('*2\r\n$3\r\nDEL\r\n$4\r\nk€\r\n');
  });

  it('parses replies split across chunks', () => {
    const parser = new RespParser();
    const bytes = new TextEncoder().encode('*2\r\n$3\r\nabc\r\n:5\r\n+OK\r\n');
    parser.push(bytes.slice(0, 7));
    expect(parser.next()).toBeUndefined();
    parser.push(bytes.slice(7));
    expect(parser.next()).toEqual(['abc', 5]);
    expect(parser.next()).toBe('OK');
  });
});

const config = getConfig(env);
const address = config.OS_API_CACHE ? parseCacheAddress(config.OS_API_CACHE) : undefined;
const ci = (env as unknown as Record<string, string | undefined>).OS_TEST_CI === 'true';

describe.skipIf(!address && !ci)('clearing a package from a real Redis', () => {
  it('deletes the cached responses of that package only', async () => {
    const id = `owner${crypto.randomUUID()}:budget`;
    const other = `owner${crypto.randomUUID()}:other`;
    const a = `${id}:{"p": "/model", "q": null}`;
    const b = `${id}:{"p": "/facts", "q": "x"}`;
    const c = `${other}:{"p": "/model", "q": null}`;
    await redisCommands(address!, [
      ['SELECT', '1'],
      ['SET', a, '1'],
      ['SET', b, '2'],
      ['SET', c, '3'],
      ['SADD', contextKey(id), a, b],
      ['SADD', contextKey(other), c],
    ]);
    expect(await clearOsApiCache(config, id)).toBe(2);
    const [, existsA, existsB, existsC, ctx] = await redisCommands(address!, [
      ['SELECT', '1'],
      ['EXISTS', a],
      ['EXISTS', b],
      ['EXISTS', c],
      ['EXISTS', contextKey(id)],
    ]);
    expect([existsA, existsB, existsC, ctx]).toEqual([0, 0, 1, 0]);
    expect(await clearOsApiCache(config, id)).toBe(0);
  });
});
