import { existsSync } from 'node:fs';
import { openDb } from '../storage/db.js';
import { installPresets } from '../storage/quotas.js';
import { seedRoster, seedVisits } from './bench-seed.js';
import { localDate } from '../bot/time.js';
const file = process.argv[2] ?? '/tmp/qb/stats.db';
if (!existsSync(file)) {
  const db = openDb(file);
  seedRoster(db, 500, 50000);
  installPresets(db, Date.now());
  seedVisits(db, 1_000_000, 50000, 500, localDate(new Date()));
  db.$client.pragma('optimize');
  db.$client.close();
  console.log('seeded', file);
}
