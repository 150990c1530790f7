/** One pino logger per process; citizens' phone numbers are masked before any line is written. */
import { pino, type Logger, type DestinationStream } from 'pino';
import { maskPhones } from './reply.js';

function scrub(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return maskPhones(v);
  if (depth > 2 || v === null || typeof v !== 'object' || v instanceof Error) return v;
  if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x, depth + 1)]));
}

export function createLogger(level: string, dest: DestinationStream | number = 2): Logger {
  return pino({
    level,
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => scrub(a)) as Parameters<typeof method>);
      },
    },
  }, typeof dest === 'number' ? pino.destination({ fd: dest, sync: true }) : dest);
}
