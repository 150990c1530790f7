/** Shared by the benchmarks: fast raw seeding (the command path is measured separately), progress, percentiles. */
import { Presets, SingleBar } from 'cli-progress';
import { addDays } from '../bot/time.js';
import type { Db } from '../storage/db.js';

/** A progress bar on stderr (stdout carries the figures). */
export function progressBar(label: string, total: number): SingleBar {
  const b = new SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total}`, stream: process.stderr }, Presets.shades_classic);
  b.start(total, 0);
  return b;
}

/** The p-th percentile of values sorted ascending; 0 for none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

const KINDS = ['household', 'village', 'residency', 'enterprise', 'meeting', 'briefing', 'talk', 'other'];

/** Seeds `units` units (a root, townships, villages) and `cadres` cadres bound to console:c<i>. */
export function seedRoster(db: Db, units: number, cadres: number, at = Date.now()): void {
  const c = db.$client;
  c.transaction(() => {
    c.prepare("INSERT INTO units (id, name, parent_id, path, created_at) VALUES (1, '基准县', NULL, '/1/', ?)").run(at);
    const townships = Math.max(1, Math.round(Math.sqrt(units)));
    const ins = c.prepare('INSERT INTO units (id, name, parent_id, path, created_at) VALUES (?, ?, ?, ?, ?)');
    for (let i = 2; i <= units; i++) {
      const parent = i <= townships + 1 ? 1 : 2 + ((i - townships - 2) % townships);
      const path = parent === 1 ? `/1/${i}/` : `/1/${parent}/${i}/`;
      ins.run(i, `单位${i}`, parent, path, at);
    }
    const cad = c.prepare("INSERT INTO cadres (id, name, phone, unit_id, rank, resident_worker, is_admin, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    const acc = c.prepare("INSERT INTO accounts (platform, account_id, cadre_id, created_at) VALUES ('console', ?, ?, ?)");
    for (let i = 1; i <= cadres; i++) {
      cad.run(i, `干部${i}`, String(13000000000 + i), 1 + (i % units), i % 10 === 0 ? 'leader' : 'staff', i % 7 === 0 ? 1 : 0, i === 1 ? 1 : 0, at);
      acc.run(`c${i}`, i, at);
    }
  })();
}

/** Seeds visits spread over the `spreadDays` days up to `today` (by default a year: a twelfth a month). */
export function seedVisits(db: Db, visits: number, cadres: number, units: number, today: string, progress?: SingleBar, spreadDays = 365): void {
  const c = db.$client;
  const ins = c.prepare(`INSERT INTO visits (cadre_id, unit_id, date, hours, place, status, backdated, platform, created_at, kind, households, content)
    VALUES (?, ?, ?, ?, ?, 'ok', 0, 'bench', ?, ?, ?, '')`);
  const batch = 50_000;
  for (let start = 0; start < visits; start += batch) {
    c.transaction(() => {
      for (let i = start; i < Math.min(visits, start + batch); i++) {
        const cadre = 1 + ((i * 7919) % cadres);
        // Spread over the last 365 days: about a twelfth falls in any one month.
        ins.run(cadre, 1 + (cadre % units), addDays(today, -(i % spreadDays)), 2 + (i % 7), `地点${i % 3000}`, Date.now(), KINDS[i % 8], i % 4);
      }
    })();
    progress?.update(Math.min(visits, start + batch));
  }
}

