// JSON logs: one object per line on stdout, `{"time","level","msg",…fields}`, so a log
// shipper (Fly's, Vector, journald) reads them without parsing prose. Callers never pass the
// bearer token or a prompt's text (a prompt is logged by its length only).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type Log = Record<LogLevel, (msg: string, fields?: Record<string, unknown>) => void>;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger writing lines at `level` and above to `write` (default: stdout). */
export function createLog(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stdout.write(line),
): Log {
  const at =
    (l: LogLevel) =>
    (msg: string, fields: Record<string, unknown> = {}): void => {
      if (ORDER[l] < ORDER[level]) return;
      write(
        `${JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...errors(fields) })}\n`,
      );
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Error values become `{name, message, stack}` (JSON.stringify would write `{}`). */
function errors(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields))
    out[k] = v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v;
  return out;
}
