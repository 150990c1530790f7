import Database from 'better-sqlite3';
const db = new Database(process.argv[2] ?? '/tmp/qb/stats.db');
const from = '2026-11-01', to = '2026-11-30';
const K = JSON.stringify(['household','village','residency','enterprise','meeting','briefing','talk','other']);
const C = `status IN ('ok','verified') AND voided_at IS NULL`;
function t(label: string, sql: string, ...params: unknown[]) {
  const st = db.prepare(sql); const raw = st.reader; if (raw) st.raw(true);
  const ws: number[] = []; let n = 0;
  for (let i = 0; i < 7; i++) { const c0 = process.cpuUsage(); const r = raw ? st.all(...params) : st.run(...params); const c = process.cpuUsage(c0); ws.push((c.user + c.system) / 1000); n = Array.isArray(r) ? r.length : 0; }
  ws.sort((a, b) => a - b);
  console.log(label.padEnd(30), 'cpu', ws[3].toFixed(1), 'rows', n);
}
function plan(sql: string, ...params: unknown[]) { console.log(db.prepare('EXPLAIN QUERY PLAN ' + sql).all(...params).map((r: any) => '   ' + r.detail).join('\n')); }
const KS = ` kind IN (SELECT value FROM json_each(?))`;
const q1 = `SELECT kind, count(*), sum(hours), sum(households) FROM visits WHERE date BETWEEN ? AND ? AND${KS} AND ${C} GROUP BY kind`;
t('totals by kind', q1, from, to, K); plan(q1, from, to, K);
const q1b = `SELECT kind, count(*), sum(hours), sum(households) FROM visits WHERE date BETWEEN ? AND ? AND kind IN ('household','village','residency','enterprise','meeting','briefing','talk','other') AND ${C} GROUP BY kind`;
t('totals by kind literal', q1b, from, to); plan(q1b, from, to);
const q2 = `SELECT count(DISTINCT place) FROM visits WHERE date BETWEEN ? AND ? AND${KS} AND ${C}`;
t('places', q2, from, to, K);
const q3 = `SELECT count(DISTINCT cadre_id) FROM visits WHERE date BETWEEN ? AND ? AND${KS} AND ${C}`;
t('distinct cadres', q3, from, to, K);
const q4 = `SELECT cadre_id, kind, count(*), sum(hours), sum(households) FROM visits WHERE date BETWEEN ? AND ? AND${KS} AND ${C} GROUP BY cadre_id, kind`;
t('group cadre,kind', q4, from, to, K); plan(q4, from, to, K);
const q5 = `SELECT cadre_id, kind, hours, households FROM visits WHERE date BETWEEN ? AND ? AND${KS} AND ${C}`;
t('raw rows', q5, from, to, K);
const q6 = `SELECT count(*) FROM visits WHERE date BETWEEN ? AND ? AND${KS} AND ${C}`;
t('count only', q6, from, to, K);
t('cadres groups', `SELECT rank, resident_worker, count(*) FROM cadres WHERE active = 1 GROUP BY rank, resident_worker`);
t('cadres sums', `SELECT count(*), sum(rank='leader'), sum(resident_worker), sum(rank='leader' AND resident_worker) FROM cadres WHERE active = 1`);
t('cadres all attrs', `SELECT id, rank, resident_worker, active, unit_id FROM cadres`);
t('cadres count', `SELECT count(*) FROM cadres`);
const q7 = `SELECT c.id, c.rank, c.resident_worker, a.n, a.h FROM (SELECT cadre_id, count(*) n, sum(hours) h FROM visits WHERE date BETWEEN ? AND ? AND kind IN ('household','village','residency') AND ${C} GROUP BY cadre_id) a JOIN cadres c ON c.id = a.cadre_id AND c.active = 1`;
t('group+join village', q7, from, to); plan(q7, from, to);
const q8 = `SELECT cadre_id, sum(kind='residency'), sum(hours), sum(CASE WHEN kind='residency' THEN hours END) FROM visits WHERE date BETWEEN ? AND ? AND kind IN ('household','village','residency') AND ${C} GROUP BY cadre_id`;
t('group cadre village only', q8, from, to);
