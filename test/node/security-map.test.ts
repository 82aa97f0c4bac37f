/**
 * test/SECURITY-MAP.md cannot rot: every `file` › `test name` it cites must
 * be a file of this repository holding a test (or describe) of that title.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const MAP = readFileSync(join(ROOT, 'test/SECURITY-MAP.md'), 'utf8');
const REFERENCE = /`([^`\s]+\.ts)` › `([^`]+)`/g;

/** Rows of the map's tables (not the header or separator lines). */
const rows = MAP.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| rule ') && !l.startsWith('|---'));
const references = [...MAP.matchAll(REFERENCE)].map((m) => ({ file: m[1] as string, name: m[2] as string }));

/** True when `source` has `name` as a string literal passed to describe/it/it.each (or as a table row title). */
function hasTest(source: string, name: string): boolean {
  return [`'${name}'`, `"${name}"`, `\`${name}\``].some((literal) => source.includes(literal));
}

describe('test/SECURITY-MAP.md', () => {
  it('has rows, each with a reference and at least one test', () => {
    expect(rows.length).toBeGreaterThan(30);
    for (const row of rows) {
      const cells = row.split(' | ');
      expect(cells.length, row).toBeGreaterThanOrEqual(3);
      expect(cells[1]?.trim(), row).not.toBe('');
      expect([...row.matchAll(REFERENCE)].length, row).toBeGreaterThan(0);
    }
  });

  it.each(references.map((r) => [r.file, r.name]))('%s holds the test "%s"', (file, name) => {
    const path = join(ROOT, file);
    expect(existsSync(path), `${file} does not exist`).toBe(true);
    expect(hasTest(readFileSync(path, 'utf8'), name), `${file} has no test named "${name}"`).toBe(true);
  });

  it('fails for a test that does not exist (the check is not vacuous)', () => {
    const source = readFileSync(join(ROOT, 'src/auth/tokens.test.ts'), 'utf8');
    expect(hasTest(source, 'rejects alg:none')).toBe(true);
    expect(hasTest(source, 'rejects alg:nothing')).toBe(false);
  });
});
