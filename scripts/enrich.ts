/** Draws the charts reminders ask for (the weekly digest's visits trend) when they are sent. */
import type { Config } from '../bot/config.js';
import type { Reply } from '../bot/reply.js';
import { localDate } from '../bot/time.js';
import type { Db } from '../storage/db.js';
import { unitById } from '../storage/units.js';
import { issuesChart, quotaChart, visitsChart } from '../handlers/report-charts.js';
import { exportDir } from '../handlers/report-files.js';

export function chartEnricher(db: Db, config: Config): (r: Reply) => Promise<Reply> {
  return async (r) => {
    if (!r.chart) return r;
    const unit = await unitById(db, r.chart.unitId);
    if (!unit) return r;
    const now = new Date();
    const input = { db, dir: exportDir(config), tz: config.MINQING_TZ, now, today: localDate(now, config.MINQING_TZ), unit };
    const draw = { visits: visitsChart, quota: quotaChart, issues: issuesChart }[r.chart.kind];
    const { chart: _, ...rest } = r;
    return { ...rest, image: (await draw(input)).file };
  };
}
