import { Script } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { renderAuthLib } from '../../src/user-lib/lib.ts';

describe('/user/lib script text', () => {
  it('is valid classic-script JavaScript', () => {
    expect(() => new Script(renderAuthLib('https://openspending.org'), { filename: 'user-lib.js' })).not.toThrow();
  });

  it('bakes the base URL in as a string literal that cannot close a <script> element', () => {
    const text = renderAuthLib('https://x.example/</script><script>alert(1)//');
    expect(text).not.toContain('</script>');
    expect(text).toContain('var url = "https://x.example/\\u003c/script>\\u003cscript>alert(1)//";');
  });
});
