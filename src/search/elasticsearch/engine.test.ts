import { describe, expect, it } from 'vitest';
import { dialectFor, parseEngineInfo } from './engine.ts';

/** The `version` part of GET / as each engine answers it. */
const root = (number: string, distribution?: string, wire?: string) => ({
  version: { number, ...(distribution ? { distribution } : {}), ...(wire ? { minimum_wire_compatibility_version: wire } : {}) },
});

const typed6 = { mappingType: 'package', includeTypeName: false, urlType: 'package', bulkType: 'package' };
const typed7 = { mappingType: 'package', includeTypeName: true, urlType: '_doc', bulkType: null };
const typeless = { mappingType: null, includeTypeName: false, urlType: '_doc', bulkType: null };

describe('engine dialect', () => {
  it.each([
    ['ElasticSearch 6.8: typed everywhere (no typeless _doc endpoint for a custom type)', root('6.8.23', undefined, '5.6.0'), typed6],
    ['ElasticSearch 7.x: typed mapping (opt-in), typeless document URLs', root('7.17.9', undefined, '6.8.0'), typed7],
    ['ElasticSearch 8: typeless (types removed)', root('8.15.0', undefined, '7.17.0'), typeless],
    ['OpenSearch 1.3: like ElasticSearch 7', root('1.3.17', 'opensearch', '6.8.0'), typed7],
    ['OpenSearch 1.x reporting 7.10.2 (compatibility override)', root('7.10.2', 'opensearch', '6.8.0'), typed7],
    ['OpenSearch 2 reporting 7.10.2 (compatibility override)', root('7.10.2', 'opensearch', '7.10.0'), typeless],
    ['OpenSearch 2.19: typeless', root('2.19.6', 'opensearch', '7.10.0'), typeless],
    ['OpenSearch 3: typeless', root('3.1.0', 'opensearch', '2.19.0'), typeless],
  ])('%s', (_rule, body, dialect) => {
    expect(dialectFor(parseEngineInfo(body))).toMatchObject(dialect);
  });

  it('refuses ElasticSearch 5 and older, naming the version', () => {
    expect(() => dialectFor(parseEngineInfo(root('5.6.16')))).toThrow(/ElasticSearch 5\.6\.16 is not supported/);
  });

  it.each([[null], [{}], [{ version: {} }], [{ version: { number: 'abc' } }], [{ error: 'forbidden' }]])(
    'says what is missing when GET / is no engine answer: %j',
    (body) => {
      expect(() => parseEngineInfo(body)).toThrow(/version\.number/);
    },
  );
});
