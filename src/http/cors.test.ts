import { describe, expect, it } from 'vitest';
import { allowedOrigin } from './cors.ts';

describe('allowedOrigin: OS_CORS_ORIGINS alone decides, Origin: null never', () => {
  it.each([
    ['any origin when unset', 'https://a.example', [], 'https://a.example'],
    ['any origin with *', 'https://a.example', ['*'], 'https://a.example'],
    ['a listed origin', 'https://a.example', ['https://b.example', 'https://a.example'], 'https://a.example'],
    ['a listed origin, case and trailing slash aside', 'https://A.example', ['https://a.example/'], 'https://A.example'],
    ['not an unlisted origin', 'https://evil.example', ['https://a.example'], null],
    ['never null when unset', 'null', [], null],
    ['never null with *', 'null', ['*'], null],
    ['never null even if listed', 'null', ['null'], null],
    ['no origin, no grant', undefined, [], null],
  ] as const)('%s', (_name, origin, allowed, expected) => {
    expect(allowedOrigin(origin, allowed)).toBe(expected);
  });
});
