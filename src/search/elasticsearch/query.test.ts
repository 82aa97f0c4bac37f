import { describe, expect, it } from 'vitest';
import type { SearchQuery } from '../types.ts';
import { filterClause, PUBLIC_AND_LOADED, searchBody, sortClause, visibilityClause } from './query.ts';

const base: SearchQuery = { filters: [], size: 100, from: 0, userid: null };

describe('elasticsearch query translation', () => {
  it('shows anonymous callers only what is neither private nor unloaded', () => {
    expect(visibilityClause(null)).toEqual({
      bool: { must_not: [{ term: { 'package.private': true } }, { term: { loaded: false } }] },
    });
  });

  it('adds the caller\'s own packages (any state) for a user', () => {
    expect(visibilityClause('u1')).toEqual({
      bool: { should: [PUBLIC_AND_LOADED, { term: { 'package.owner': 'u1' } }], minimum_should_match: 1 },
    });
  });

  it.each([
    ['a scalar becomes one lenient match', { path: 'package.owner', value: 'abc' }, { match: { 'package.owner': { query: 'abc', lenient: true } } }],
    ['a boolean too', { path: 'loaded', value: false }, { match: { loaded: { query: false, lenient: true } } }],
    [
      'a list means any of its values',
      { path: 'id', value: ['a:b', 'c:d'] },
      {
        bool: {
          should: [{ match: { id: { query: 'a:b', lenient: true } } }, { match: { id: { query: 'c:d', lenient: true } } }],
          minimum_should_match: 1,
        },
      },
    ],
    ['a stored-only path matches nothing', { path: 'model.fact_table', value: 'x' }, { match_none: {} }],
    ['so does package.model', { path: 'package.model.measures', value: 'x' }, { match_none: {} }],
    ['and resource schemas', { path: 'package.resources.schema.fields', value: 'x' }, { match_none: {} }],
  ])('filters: %s', (_rule, filter, clause) => {
    expect(filterClause(filter)).toEqual(clause);
  });

  it.each([
    ['relevance, then newest, then id with free text', { q: 'x' }, ['_score', { last_update: { order: 'desc', missing: '_last' } }, { id: { order: 'asc' } }]],
    ['newest, then id without', {}, [{ last_update: { order: 'desc', missing: '_last' } }, { id: { order: 'asc' } }]],
    [
      'title through its lower-cased sort field, ties by id',
      { sort: { field: 'title', order: 'asc' } },
      [{ 'package.title.sort': { order: 'asc', missing: '_last' } }, { id: { order: 'asc' } }],
    ],
    ['id alone for id', { sort: { field: 'id', order: 'desc' } }, [{ id: { order: 'desc', missing: '_last' } }]],
  ] as const)('sort: %s', (_rule, query, sort) => {
    expect(sortClause(query as Pick<SearchQuery, 'q' | 'sort'>)).toEqual(sort);
  });

  it('returns only the search fields, counts every hit and pages with from/size', () => {
    const body = searchBody({ ...base, q: 'budget', size: 10, from: 20 });
    expect(body._source).toEqual(['id', 'model', 'package', 'origin_url', 'loaded', 'last_update']);
    expect(body).toMatchObject({ size: 10, from: 20, track_total_hits: true });
    expect(body.query).toEqual({
      bool: {
        filter: [PUBLIC_AND_LOADED],
        must: [
          {
            multi_match: {
              query: 'budget',
              fields: ['package.title', 'package.author', 'package.owner', 'package.description', 'package.regionCode', 'package.countryCode', 'package.cityCode'],
              lenient: true,
            },
          },
        ],
      },
    });
  });

  it('has no text clause without q (every visible package matches)', () => {
    expect((searchBody(base).query as { bool: { must: unknown[] } }).bool.must).toEqual([]);
  });
});
