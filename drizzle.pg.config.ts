import { defineConfig } from 'drizzle-kit';

/** The PostgreSQL twin of drizzle.config.ts: migrations of storage/schema-pg.ts. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './storage/schema-pg.ts',
  out: './storage/migrations-pg',
});
