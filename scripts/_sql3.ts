import Database from 'better-sqlite3';
const db = new Database(process.argv[2] ?? '/tmp/qb/stats.db');
const from = '2026-11-01', to = '2026-11-30';
const C = `status IN ('ok','verified') AND voided_at IS NULL`;
const ALL = `kind IN ('household','village','residency','enterprise','meeting','briefing','talk','other')`;
const W = `date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`;
function t(label: string, sql: string, mode: 'raw' | 'pluck' = 'raw') {
  const st = db.prepare(sql); if (mode === 'raw') st.raw(true); if (mode === 'pluck') st.pluck(true);
  const ws: number[] = []; let n = 0; let r: any;
  for (let i = 0; i < 9; i++) { const c0 = process.cpuUsage(); r = st.all(); const c = process.cpuUsage(c0); ws.push((c.user + c.system) / 1000); n = r.length; }
  ws.sort((a, b) => a - b);
  console.log(label.padEnd(34), 'cpu', ws[4].toFixed(1), 'min', ws[0].toFixed(1), 'rows', n, JSON.stringify(r[0]).slice(0, 80));
}
let s = 0;
db.function('noop3', { deterministic: true }, (a: any, b: any, c: any) => { s += c; return null; });
t('js fn per row', `SELECT count(noop3(cadre_id, kind, hours)) FROM visits WHERE ${W}`);
const KI: Record<string, number> = { household: 0, village: 1, residency: 2, enterprise: 3, meeting: 4, briefing: 5, talk: 6, other: 7 };
const arr = new Float64Array(60000 * 24);
db.aggregate('agg', { start: 0, step: (t: number, id: number, kind: string, h: number, hh: number) => { const o = id * 24 + KI[kind] * 3; arr[o]++; arr[o + 1] += h; arr[o + 2] += hh; return t + 1; } });
t('js aggregate', `SELECT agg(cadre_id, kind, hours, households) FROM visits WHERE ${W}`);
t('cadres+covered IN', `SELECT count(*), sum(rank='leader'), sum(resident_worker), sum(rank='leader' AND resident_worker), sum(id IN (SELECT cadre_id FROM visits WHERE ${W})) FROM cadres WHERE active = 1`);
t('cadres+covered EXISTS', `SELECT count(*), sum(EXISTS (SELECT 1 FROM visits v INDEXED BY visits_cadre WHERE v.cadre_id = c.id AND v.date BETWEEN '${from}' AND '${to}' AND v.status IN ('ok','verified') AND v.voided_at IS NULL)) FROM cadres c WHERE active = 1`);
t('group_concat packed', `SELECT group_concat(cadre_id || ',' || kind || ',' || hours || ',' || households, ';') FROM visits WHERE ${W}`);
t('json_group_array', `SELECT json_group_array(cadre_id) FROM visits WHERE ${W}`);
t('totals by kind', `SELECT kind, count(*), sum(hours), sum(households) FROM visits WHERE ${W} GROUP BY kind`);
t('places', `SELECT count(DISTINCT place) FROM visits WHERE ${W}`);
t('places group by subq', `SELECT count(*) FROM (SELECT place FROM visits WHERE ${W} GROUP BY place)`);
