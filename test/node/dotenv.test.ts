import { describe, expect, it } from 'vitest';
import { parseDotEnv } from '../../tools/lib/dotenv.ts';

describe('.env parsing', () => {
  it('reads KEY=VALUE lines, quotes and export prefixes, and skips comments', () => {
    const text = '# comment\nOS_BASE_URL=http://x\nexport OS_S3_PORT=4567\nOS_CLIENT_API_KEYS="k1:alice,k2:bob"\n\nbad line\n';
    expect(parseDotEnv(text)).toEqual({
      OS_BASE_URL: 'http://x',
      OS_S3_PORT: '4567',
      OS_CLIENT_API_KEYS: 'k1:alice,k2:bob',
    });
  });
});
