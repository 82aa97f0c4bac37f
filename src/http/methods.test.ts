import { describe, expect, it } from 'vitest';
import { allowedMethodsOf } from './methods.ts';

describe('allowedMethodsOf', () => {
  const allowed = allowedMethodsOf([
    { method: 'ALL', path: '*' },
    { method: 'GET', path: '/user/check' },
    { method: 'POST', path: '/datastore/' },
    { method: 'POST', path: '/datastore/authorize' },
    { method: 'GET', path: '/search/:kind' },
    { method: 'GET', path: '/openapi.json' },
  ]);
  it.each([
    ['/user/check', ['GET', 'HEAD', 'OPTIONS']],
    ['/datastore/', ['POST', 'OPTIONS']],
    ['/search/package', ['GET', 'HEAD', 'OPTIONS']],
    ['/search/anything', ['GET', 'HEAD', 'OPTIONS']],
    ['/openapi.json', ['GET', 'HEAD', 'OPTIONS']],
    ['/openapixjson', []],
    ['/search/a/b', []],
    ['/datastore', []],
    ['/nope', []],
  ])('%s allows %o', (path, methods) => {
    expect(allowed(path)).toEqual(methods);
  });
});
