import { describe, expect, it } from 'vitest';
import { hookPayload, isAllowedPipeline, normalisePipelineUrl, summariseHookResponse } from './hooks.ts';

const ALLOWED = ['https://apps.openbudgets.eu/linkedpipes/execute/fdp2rdf'];

describe('isAllowedPipeline', () => {
  it.each([
    ['https://apps.openbudgets.eu/linkedpipes/execute/fdp2rdf', true],
    ['HTTPS://APPS.openbudgets.eu:443/linkedpipes/execute/fdp2rdf', true],
    ['https://apps.openbudgets.eu/linkedpipes/execute/fdp2rdf#x', true],
    ['https://apps.openbudgets.eu/linkedpipes/execute/fdp2rdf/', false],
    ['https://apps.openbudgets.eu/linkedpipes/execute/fdp2rdf?x=1', false],
    ['https://apps.openbudgets.eu/linkedpipes/execute/fdp2rdfx', false],
    ['https://apps.openbudgets.eu/linkedpipes/execute/', false],
    ['http://apps.openbudgets.eu/linkedpipes/execute/fdp2rdf', false],
    ['https://apps.openbudgets.eu.evil.test/linkedpipes/execute/fdp2rdf', false],
    ['https://user:pw@apps.openbudgets.eu/linkedpipes/execute/fdp2rdf', false],
    ['http://169.254.169.254/latest/meta-data', false],
    ['file:///etc/passwd', false],
    ['not a url', false],
  ])('%s allowed: %s', (url, expected) => {
    expect(isAllowedPipeline(url, ALLOWED)).toBe(expected);
  });

  it('allows nothing when no pipeline is configured', () => {
    expect(isAllowedPipeline(ALLOWED[0]!, [])).toBe(false);
  });

  it('ignores configured entries that are not URLs', () => {
    expect(normalisePipelineUrl('javascript:alert(1)')).toBeNull();
    expect(isAllowedPipeline('javascript:alert(1)', ['javascript:alert(1)'])).toBe(false);
  });
});

describe('hookPayload', () => {
  it.each([
    [
      'http://datastore.openspending.org/abc/budget/final/datapackage.json',
      'http://s3.amazonaws.com/datastore.openspending.org/abc/budget/datapackage.json',
    ],
    ['https://s3.example.test/bucket/abc/budget/datapackage.json', 'https://s3.example.test/bucket/abc/budget/datapackage.json'],
    [null, null],
  ])('points %s at %s', (origin, url) => {
    expect(hookPayload(origin)).toEqual({
      '@context': { '@vocab': 'http://schema.org/', url: { '@type': '@id' } },
      url,
    });
  });
});

describe('summariseHookResponse', () => {
  it('keeps a short answer on one line', () => {
    expect(summariseHookResponse(200, 'ok\n\tdone')).toBe('HTTP 200: ok done');
  });
  it('caps a long answer at 200 characters', () => {
    const s = summariseHookResponse(500, 'x'.repeat(5000));
    expect(s).toBe(`HTTP 500: ${'x'.repeat(200)}…`);
  });
  it('gives the status alone for an empty body', () => {
    expect(summariseHookResponse(204, '')).toBe('HTTP 204');
  });
});
