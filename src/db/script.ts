/**
 * Several statements in one round trip. The driver sends one query at a time
 * and the next only after the previous one's answer, so a load's fixed steps
 * (claim, staging table, swap, registry row) cost one round trip per
 * statement: tens of milliseconds each when Postgres (Neon) is that far away.
 * Postgres's simple-query protocol takes many statements in one message but
 * no parameters, so each statement's `$n` are inlined as literals here
 * (strings quoted as E'…' when they hold a backslash, so the value is the
 * same whatever standard_conforming_strings says). Only for statements whose inputs do not depend on each
 * other's results; a failing statement skips the rest of the message.
 */
import type { Client } from '@neondatabase/serverless';

export type SqlValue = string | number | boolean | null;

/** One statement: SQL text with `$1`, `$2`, … and its values. */
export interface Statement {
  text: string;
  values?: readonly SqlValue[];
}

/** What a statement answered. */
export interface StatementResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number | null;
}

function literal(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    // Parenthesised so that a negative number next to an operator or a cast keeps its sign.
    return value < 0 ? `(${value})` : String(value);
  }
  if (value.includes('\u0000')) throw new Error('a text value holds a NUL character');
  const quoted = value.replace(/'/g, "''");
  // The space keeps E from joining a word before it.
  return value.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

/** The statement as plain SQL (its `$n` replaced by literals). Pure; the SQL texts are the code's own. */
export function inlineStatement(statement: Statement | string): string {
  if (typeof statement === 'string') return statement;
  const values = statement.values ?? [];
  const used = new Set<number>();
  const text = statement.text.replace(/\$(\d+)/g, (_m, n: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= values.length) throw new Error(`statement has $${n} but ${values.length} value(s)`);
    used.add(i);
    return literal(values[i] as SqlValue);
  });
  if (used.size !== values.length) throw new Error(`statement uses ${used.size} of its ${values.length} values`);
  return text;
}

/** Runs `statements` as one message and answers each one's rows, in order. */
export async function runScript(db: Pick<Client, 'query'>, statements: ReadonlyArray<Statement | string>): Promise<StatementResult[]> {
  if (statements.length === 0) return [];
  const text = statements.map(inlineStatement).join(';\n');
  const answer = (await db.query(text)) as unknown as StatementResult | StatementResult[];
  const results = Array.isArray(answer) ? answer : [answer];
  if (results.length !== statements.length) {
    throw new Error(`expected ${statements.length} results, got ${results.length}`);
  }
  return results;
}

/** What a decidedTransaction answers, and the statements it commits with. */
export interface Decision<T> {
  value: T;
  writes: ReadonlyArray<Statement | string>;
}

/**
 * A transaction in two round trips: BEGIN with `opening` (a row lock and what
 * the decision needs), then the statements `decide` answers from their
 * results with COMMIT. Rolled back when a statement or `decide` fails.
 */
export async function decidedTransaction<T>(
  db: Pick<Client, 'query'>,
  opening: ReadonlyArray<Statement | string>,
  decide: (opened: StatementResult[]) => Decision<T> | Promise<Decision<T>>,
): Promise<T> {
  try {
    const [, ...opened] = await runScript(db, ['BEGIN', ...opening]);
    const { value, writes } = await decide(opened);
    await runScript(db, [...writes, 'COMMIT']);
    return value;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
