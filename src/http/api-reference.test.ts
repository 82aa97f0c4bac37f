import { describe, expect, it } from 'vitest';
import { escapeHtml, renderApiReference } from './api-reference.ts';

describe('API reference page', () => {
  it('lists every operation with its parameters and responses', () => {
    const html = renderApiReference({
      info: { title: 'svc', version: '1' },
      paths: {
        '/user/check': {
          get: {
            summary: 'Who am I',
            parameters: [{ name: 'jwt', in: 'query', schema: { type: 'string' } }],
            responses: { '200': { description: 'the profile' } },
          },
        },
      },
    });
    expect(html).toContain('GET /user/check');
    expect(html).toContain('<code>jwt</code>');
    expect(html).toContain('the profile');
  });

  it('escapes text from the document', () => {
    expect(escapeHtml('<script>"x"</script>')).not.toContain('<');
    const html = renderApiReference({ info: { title: '<b>t</b>', version: '1' }, paths: {} });
    expect(html).not.toContain('<b>t</b>');
  });
});
