import Database from 'better-sqlite3';
const db = new Database(process.argv[2] ?? '/tmp/qb/stats.db');
const from = '2026-11-01', to = '2026-11-30';
const C = `status IN ('ok','verified') AND voided_at IS NULL`;
const ALL = `kind IN ('household','village','residency','enterprise','meeting','briefing','talk','other')`;
function t(label: string, sql: string, mode: 'raw' | 'pluck' | 'get' = 'raw', ...params: unknown[]) {
  const st = db.prepare(sql); if (mode === 'raw') st.raw(true); if (mode === 'pluck') st.pluck(true);
  const ws: number[] = []; let n = 0;
  for (let i = 0; i < 9; i++) { const c0 = process.cpuUsage(); const r = mode === 'get' ? [st.get(...params)] : st.all(...params); const c = process.cpuUsage(c0); ws.push((c.user + c.system) / 1000); n = r.length; }
  ws.sort((a, b) => a - b);
  console.log(label.padEnd(34), 'cpu', ws[4].toFixed(1), 'min', ws[0].toFixed(1), 'rows', n);
}
t('count only', `SELECT count(*) FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`);
t('places', `SELECT count(DISTINCT place) FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`);
t('cadres distinct', `SELECT count(DISTINCT cadre_id) FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`);
t('both distinct', `SELECT count(DISTINCT place), count(DISTINCT cadre_id) FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`);
t('totals+both distinct', `SELECT count(*), sum(hours), sum(households), count(DISTINCT place), count(DISTINCT cadre_id) FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`);
t('covered join active', `SELECT count(*) FROM (SELECT DISTINCT cadre_id FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}) v JOIN cadres c ON c.id = v.cadre_id AND c.active = 1`);
t('group_concat cadre', `SELECT group_concat(cadre_id) FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`);
t('pluck cadre*8', `SELECT cadre_id FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`, 'pluck');
t('per cadre,kind 3k join', `SELECT v.cadre_id, v.kind, v.n, v.h, v.hh, c.rank, c.resident_worker FROM (SELECT cadre_id, kind, count(*) n, sum(hours) h, sum(households) hh FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND kind IN ('household','village','residency') AND ${C} GROUP BY cadre_id, kind) v JOIN cadres c ON c.id = v.cadre_id AND c.active = 1`);
t('per cadre,kind 3k', `SELECT cadre_id, kind, count(*) n, sum(hours) h, sum(households) hh FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND kind IN ('household','village','residency') AND ${C} GROUP BY cadre_id, kind`);
t('per cadre,kind all', `SELECT cadre_id, kind, count(*) n, sum(hours) h, sum(households) hh FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C} GROUP BY cadre_id, kind`);
t('per cadre all condsum', `SELECT cadre_id, sum(kind IN ('household','village','residency')), sum(CASE WHEN kind IN ('household','village','residency') THEN hours END), sum(CASE WHEN kind = 'residency' THEN hours END) FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C} GROUP BY cadre_id`);
t('cadre sums', `SELECT count(*), sum(rank='leader'), sum(resident_worker), sum(rank='leader' AND resident_worker) FROM cadres WHERE active = 1`);
db.pragma('temp_store = MEMORY'); db.pragma('cache_size = -32000');
t('places mem', `SELECT count(DISTINCT place) FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`);
t('per cadre,kind all mem', `SELECT cadre_id, kind, count(*) n, sum(hours) h, sum(households) hh FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C} GROUP BY cadre_id, kind`);
