/** One pino logger per process; citizens' phone numbers are masked before any line is written. */
import { pino, type Logger, type DestinationStream } from 'pino';
import { maskPhones } from './reply.js';

function scrub(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return maskPhones(v);
  if (depth > 2 || v === null || typeof v !== 'object' || v instanceof Error) return v;
  if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x, depth + 1)]));
}

/**
 * An error as a log line shows it: kind, message, code, HTTP status, the platform's answer and the
 * stack — never the rest. pino's default serializer copies every enumerable property, and an
 * HTTP client's error (the Feishu SDK's axios) carries the request: its body (the reply, with a
 * citizen's phone in full in a direct chat) and its `Authorization: Bearer` token.
 */
function errorOf(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const x = e as Error & { code?: unknown; status?: unknown; response?: { status?: unknown; data?: unknown }; cause?: unknown };
  return {
    type: x.name, message: x.message, code: x.code, status: x.status ?? x.response?.status,
    response: x.response?.data, stack: x.stack, cause: x.cause instanceof Error ? errorOf(x.cause) : undefined,
  };
}

/** Every string (and phone-like number) of a parsed log line, masked; keys included. */
function maskDeep(v: unknown): unknown {
  if (typeof v === 'string') return maskPhones(v);
  if (typeof v === 'number') { const t = String(v); const m = maskPhones(t); return m === t ? v : m; }
  if (Array.isArray(v)) return v.map(maskDeep);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [maskPhones(k), maskDeep(x)]));
  return v;
}

/**
 * The last word, on the line as written — so stacks, bindings and fields at any depth are masked
 * too. Masked as JSON, not as text, so the line stays valid JSON (a number becomes a string).
 */
function maskLine(line: string): string {
  if (maskPhones(line) === line) return line;
  try { return JSON.stringify(maskDeep(JSON.parse(line))) + '\n'; } catch { return maskPhones(line); }
}

export function createLogger(level: string, dest: DestinationStream | number = 2): Logger {
  return pino({
    level,
    serializers: { err: errorOf, error: errorOf },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => scrub(a)) as Parameters<typeof method>);
      },
      streamWrite: maskLine,
    },
  }, typeof dest === 'number' ? pino.destination({ fd: dest, sync: true }) : dest);
}
