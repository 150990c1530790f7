import { openDb } from '../storage/db.js';
import { unitStats, unitScope, sumVisits, distinctPlaces, cadresWithoutVisits } from '../storage/stats.js';
import { quotaCompletion } from '../bot/quota.js';
import { visitAggregate, cadreGroups, cadreAttrsOf, volunteerAggregate } from '../storage/quotas.js';
import { issueCountsForPeriod } from '../storage/issues.js';
import { periodOf, localDate } from '../bot/time.js';
import { unitById } from '../storage/units.js';
const db = openDb(process.argv[2] ?? '/tmp/qb/stats.db');
const today = localDate(new Date());
const p = periodOf('month', today);
const unit = unitById(db, 1)!;
function t(label: string, fn: () => unknown) {
  const ws: number[] = [], cs: number[] = [];
  for (let i = 0; i < 7; i++) {
    const c0 = process.cpuUsage(); const s = performance.now(); fn(); ws.push(performance.now() - s); const c = process.cpuUsage(c0); cs.push((c.user + c.system) / 1000);
  }
  ws.sort((a, b) => a - b); cs.sort((a, b) => a - b);
  console.log(label.padEnd(28), 'wall', ws[3].toFixed(1), 'cpu', cs[3].toFixed(1));
}
const scope = unitScope(db, unit);
t('scope', () => unitScope(db, unit));
t('visitAggregate', () => visitAggregate(db, scope, p.start, p.end, null, new Map()));
t('distinctPlaces', () => distinctPlaces(db, scope, p.start, p.end));
t('volunteer', () => volunteerAggregate(db, scope, p.start, p.end, new Map()));
t('groups', () => cadreGroups(db, scope, new Map()));
const agg = visitAggregate(db, scope, p.start, p.end, null, new Map());
t('attrsOf', () => cadreAttrsOf(db, scope, agg.keys(), new Map()));
t('issues', () => issueCountsForPeriod(db, unit.path, p.start, p.end, today));
t('laggards', () => cadresWithoutVisits(db, scope, p.start, p.end, 10));
t('unitStats', () => unitStats(db, unit, p.start, p.end, today, new Map(), 10));
t('completion(no cache)', () => quotaCompletion(db, { at: p.start, periods: ['month'] }));
t('both shared cache', () => { const c = new Map(); unitStats(db, unit, p.start, p.end, today, c, 10); quotaCompletion(db, { at: p.start, periods: ['month'], cache: c }); });
