/**
 * Global setup of the `postgres` test project: names this run (schemas are `t_<run>_…`, see
 * test/chat.ts) and drops the run's schemas when it ends, so the shared `test` database does not
 * fill up with them.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export function setup(): () => Promise<void> {
  const run = randomBytes(3).toString('hex');
  process.env.MINQING_TEST_RUN = run;
  return async () => {
    const client = new pg.Client({ connectionString: process.env.MINQING_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test' });
    try {
      await client.connect();
      const { rows } = await client.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`t\\_${run}\\_%`]);
      for (const r of rows) await client.query(`DROP SCHEMA ${r.nspname} CASCADE`);
    } catch {
      // A database that went away leaves nothing to clean.
    } finally {
      await client.end().catch(() => undefined);
    }
  };
}
