import Database from 'better-sqlite3';
const db = new Database(process.argv[2] ?? '/tmp/qb/stats.db');
const from = '2026-11-01', to = '2026-11-30';
const C = `status IN ('ok','verified') AND voided_at IS NULL`;
const ALL = `kind IN ('household','village','residency','enterprise','meeting','briefing','talk','other')`;
const W = `date BETWEEN '${from}' AND '${to}' AND ${ALL} AND ${C}`;
const tests: Array<[string, () => unknown]> = [];
function q(label: string, sql: string, post?: (r: any[]) => unknown, mode: 'raw' | 'pluck' = 'raw') {
  const st = db.prepare(sql); if (mode === 'raw') st.raw(true); else st.pluck(true);
  tests.push([label, () => { const r = st.all(); return post ? post(r) : r; }]);
}
q('totals by kind', `SELECT kind, count(*), sum(hours), sum(households) FROM visits WHERE ${W} GROUP BY kind`);
q('totals+json ids', `SELECT kind, count(*), sum(hours), sum(households), json_group_array(cadre_id) FROM visits WHERE ${W} GROUP BY kind`, (r) => { const m = new Uint8Array(60000); let n = 0; for (const x of r) for (const id of JSON.parse(x[4])) if (!m[id]) { m[id] = 1; n++; } return n; });
q('totals+json ids+places', `SELECT kind, count(*), sum(hours), sum(households), json_group_array(cadre_id), json_group_array(place) FROM visits WHERE ${W} GROUP BY kind`, (r) => { const s = new Set(); for (const x of r) for (const p of JSON.parse(x[5])) s.add(p); return s.size; });
q('places', `SELECT count(DISTINCT place) FROM visits WHERE ${W}`);
q('distinct ids pluck', `SELECT DISTINCT cadre_id FROM visits WHERE ${W}`, undefined, 'pluck');
q('ids pluck', `SELECT cadre_id FROM visits WHERE ${W}`, (r) => { const m = new Uint8Array(60000); let n = 0; for (const id of r) if (!m[id]) { m[id] = 1; n++; } return n; }, 'pluck');
q('agg 3 kinds', `SELECT cadre_id, kind, count(*), sum(hours), sum(households) FROM visits WHERE date BETWEEN '${from}' AND '${to}' AND kind IN ('household','residency','village') AND ${C} GROUP BY cadre_id, kind`);
q('roster rows', `SELECT id, unit_id, active, rank, resident_worker FROM cadres`);
q('roster packed pluck', `SELECT id | (unit_id << 20) | (active << 52) FROM cadres`, undefined, 'pluck');
q('roster json', `SELECT json_group_array(id), json_group_array(unit_id), json_group_array(active | ((rank = 'leader') << 1) | (resident_worker << 2)) FROM cadres`, (r) => [JSON.parse(r[0][0]).length, JSON.parse(r[0][1]).length, JSON.parse(r[0][2]).length]);
q('cadre sums', `SELECT count(*), sum(rank='leader'), sum(resident_worker), sum(rank='leader' AND resident_worker) FROM cadres WHERE active = 1`);
const res: Record<string, number[]> = {};
for (let round = 0; round < 9; round++) for (const [l, f] of tests) { const c0 = process.cpuUsage(); f(); const c = process.cpuUsage(c0); (res[l] ??= []).push((c.user + c.system) / 1000); }
for (const [l, f] of tests) { const a = res[l].sort((x, y) => x - y); console.log(l.padEnd(28), 'med', a[4].toFixed(1), 'min', a[0].toFixed(1), JSON.stringify(f()).slice(0, 60)); }
