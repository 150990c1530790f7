import { benchReports } from './scripts/bench-reports.ts';
await benchReports({ progress: false });
