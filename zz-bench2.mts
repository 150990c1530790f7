import { existsSync } from 'node:fs';
import { openDb } from './storage/db.ts';
import { seedRoster, seedVisits } from './scripts/bench-seed.ts';
import { seedIssues } from './scripts/bench-reports.ts';
import { installPresets } from './storage/quotas.ts';
import { localDate, periodOf } from './bot/time.ts';
import { ledgerRows, ledgerEvents, openSnapshot } from './storage/reports.ts';
import { exportLedger, exportLists } from './handlers/report-files.ts';
import { unitById } from './storage/units.ts';
const file = '/tmp/benchdb/reports.db';
const fresh = !existsSync(file);
const db = openDb(file);
const today = localDate(new Date());
if (fresh) { seedRoster(db, 500, 50000); installPresets(db, Date.now()); seedVisits(db, 1000000, 50000, 500, today); seedIssues(db, 100000, 50000, 500, today); db.$client.pragma('optimize'); }
const root = unitById(db, 1)!;
const what = process.argv[2];
let t = performance.now();
const s = openSnapshot(db);
if (what === 'rows') { let n = 0; for (const r of ledgerRows(s.db, root.path)) n++; console.log('ledgerRows', n, (performance.now() - t).toFixed(0)); t = performance.now(); n = 0; for (const r of ledgerEvents(s.db, root.path)) n++; console.log('events', n, (performance.now() - t).toFixed(0)); }
s.close();
if (what === 'ledger') { const c0 = process.cpuUsage(); const r = await exportLedger({ db, dir: '/tmp/benchdb/ex', tz: 'Asia/Shanghai', now: new Date(), today, unit: root, fullPhones: false }); console.log('ledger', r.rows, (performance.now() - t).toFixed(0), 'cpu', JSON.stringify(process.cpuUsage(c0))); }
if (what === 'lists') { const r = await exportLists({ db, dir: '/tmp/benchdb/ex', tz: 'Asia/Shanghai', now: new Date(), today, unit: root, fullPhones: false }, periodOf('month', today)); console.log('lists', r.rows, (performance.now() - t).toFixed(0)); }
