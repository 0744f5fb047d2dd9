export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

/**
 * Structured logging: one JSON object per line, `{ at, level, event, ...fields }`.
 * Callers never pass secrets; `redact` is a second line of defence for known field names.
 */
export type Logger = {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
};

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEYS = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|signature/i;

/** Replaces values of secret-looking keys (password, token, cookie, …) with `[redacted]`. */
export function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_KEYS.test(k)) out[k] = '[redacted]';
    else if (v instanceof Error) out[k] = { name: v.name, message: v.message };
    else if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date))
      out[k] = redact(v as LogFields);
    else out[k] = v;
  }
  return out;
}

/** A {@link Logger} writing JSON lines through `write` (e.g. `console.log`). */
export function jsonLogger(options: {
  level?: LogLevel;
  write: (line: string) => void;
  now?: () => Date;
}): Logger {
  const min = ORDER[options.level ?? 'info'];
  const now = options.now ?? (() => new Date());
  const emit =
    (level: LogLevel) =>
    (event: string, fields: LogFields = {}) => {
      if (ORDER[level] < min) return;
      options.write(JSON.stringify({ at: now().toISOString(), level, event, ...redact(fields) }));
    };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
