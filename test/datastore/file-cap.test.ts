/**
 * One request at the file cap: every file gets its own presigned URL. The
 * cost is printed for the record; speed targets live in bench/, not here.
 */
import { describe, expect, it } from 'vitest';
import { grantUploads } from '../../src/datastore/authorize.ts';
import { storageTarget } from '../../src/datastore/presign.ts';
import type { AuthorizeRequest } from '../../src/datastore/schema.ts';
import { config } from '../helpers/app.ts';

describe('presigning cost', () => {
  it('signs every file of a request at the 1000-file cap', async () => {
    const files: AuthorizeRequest['filedata'] = {};
    for (let i = 0; i < 1000; i++) files[`data/part-${i}.csv`] = { md5: '1B2M2Y8AsgTpgAmY7PhCfg==', name: 'p', length: i, type: 'text/csv' };
    const request: AuthorizeRequest = { metadata: { owner: 'u', name: 'd' }, filedata: files };
    const target = storageTarget(config());
    await grantUploads(target, { ...request, filedata: { 'warm.csv': { md5: '1B2M2Y8AsgTpgAmY7PhCfg==', name: 'w', length: 1 } } }, 60);
    const runs: number[] = [];
    for (let r = 0; r < 3; r++) {
      const started = performance.now();
      const out = await grantUploads(target, request, 3600);
      runs.push(performance.now() - started);
      expect(Object.keys(out.filedata)).toHaveLength(1000);
    }
    const best = Math.min(...runs);
    console.log(`presign: 1000 files in ${runs.map((r) => r.toFixed(0)).join(' / ')} ms (best ${(best / 1000).toFixed(2)} ms per file)`);
  });
});
