import { describe, expect, it } from 'vitest';
import { physicalIndexName } from './index.ts';
import { isOurs } from './reindex.ts';

describe('physical index names', () => {
  it('are <name>-<UTC timestamp to the millisecond>, sortable by time', () => {
    expect(physicalIndexName('packages', new Date('2026-11-29T05:07:09.042Z'))).toBe('packages-20261129050709042');
    const a = physicalIndexName('packages', new Date('2026-01-02T00:00:00.000Z'));
    const b = physicalIndexName('packages', new Date('2026-01-10T00:00:00.000Z'));
    expect([b, a].sort()).toEqual([a, b]);
  });

  it.each([
    ['packages-20261129050709042', true],
    ['packages-initial', true],
    ['packages', false],
    ['packages-backup', false],
    ['packages-tools-20261129050709042', false],
    ['packages-2026112905070904', false],
    ['other-20261129050709042', false],
  ])('--drop-backup may delete %s: %s', (index, ours) => {
    expect(isOurs('packages', index)).toBe(ours);
  });
});
