import { describe, expect, it } from 'vitest';
import { checkpointSql, CHECKPOINT_MOVED, isCheckpointMoved } from './checkpoint.ts';

const JOB = '5f0c2a3e-8d1b-4c7e-9a2f-0123456789ab';

describe('checkpointSql', () => {
  it('moves the checkpoint only from where this delivery started', () => {
    const sql = checkpointSql(JOB, 100, 250, 7);
    expect(sql).toContain(`byte_offset = 250, rows_loaded = 7`);
    expect(sql).toContain(`WHERE job_id = '${JOB}' AND state = 'loading' AND byte_offset = 100;`);
    expect(sql).toContain(`ERRCODE = '${CHECKPOINT_MOVED}'`);
  });

  it.each([
    ["'; DROP TABLE load_jobs; --", 0, 1, 1],
    ['not-a-uuid', 0, 1, 1],
    [JOB, -1, 1, 1],
    [JOB, 0, 1.5, 1],
    [JOB, 0, Number.NaN, 1],
    [JOB, 0, 1, 2 ** 60],
    [JOB, 10, 5, 1],
  ])('refuses values that are not plain literals (%j, %j, %j, %j)', (job, from, to, rows) => {
    expect(() => checkpointSql(job, from, to, rows)).toThrow(/internal/);
  });
});

describe('isCheckpointMoved', () => {
  it('recognises the raised SQLSTATE only', () => {
    expect(isCheckpointMoved({ code: CHECKPOINT_MOVED })).toBe(true);
    expect(isCheckpointMoved({ code: '40001' })).toBe(false);
    expect(isCheckpointMoved(new Error('x'))).toBe(false);
    expect(isCheckpointMoved(null)).toBe(false);
  });
});
