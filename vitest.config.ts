import { defineConfig } from 'vitest/config';

const all = ['bot/**/*.test.ts', 'handlers/**/*.test.ts', 'jobs/**/*.test.ts', 'storage/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'];

/**
 * Two projects, one `npm test`: every test on SQLite, and the tests that go through the database
 * (conversations, scheduler, crash, delivery, adapters) again on PostgreSQL, each test in a schema
 * of its own (test/chat.ts). Pure readers (the corpus, fuzzing, time and lights arithmetic, chart
 * rendering) and the SQLite file backup run once: the database under them changes nothing.
 */
const sqliteOnly = [
  'test/corpus.test.ts', 'test/fuzz.test.ts', 'test/fuzz-regressions.test.ts', 'test/reading.test.ts', 'test/lights.test.ts',
  'test/charts.test.ts', 'test/backup.test.ts', 'test/citizen-browser.test.ts', 'bot/time.test.ts', 'bot/outbound.test.ts',
  'storage/schema-twins.test.ts', 'test/shared-limit.test.ts', 'test/checkpoint.test.ts', 'test/known-places.test.ts', 'test/group-foreign-writes.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'sqlite', include: all, env: { MINQING_TEST_DB: 'sqlite' } } },
      { extends: true, test: { name: 'postgres', include: all, exclude: sqliteOnly, env: { MINQING_TEST_DB: 'postgres' }, globalSetup: ['test/pg-setup.ts'] } },
    ],
  },
});
