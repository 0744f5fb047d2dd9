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

/** How deep {@link redact} follows nested objects, arrays and causes (a guard against cycles). */
const MAX_DEPTH = 8;

/**
 * Replaces values of secret-looking keys (password, token, cookie, …) with `[redacted]`, in
 * nested objects and inside arrays too. An `Error` becomes `{ name, message, stack, cause,
 * …its own fields }` (a Fly or provider error's `status`, `code`), its `cause` chain followed
 * (ECMAScript `Error.prototype.cause`), so a logged failure says where it came from.
 */
export function redact(fields: LogFields): LogFields {
  return cleanObject(fields, 0);
}

function cleanObject(fields: object, depth: number): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields))
    out[k] = SECRET_KEYS.test(k) ? '[redacted]' : clean(v, depth + 1);
  return out;
}

function clean(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) return '[too deep]';
  if (value instanceof Error)
    return {
      ...cleanObject(value, depth),
      name: value.name,
      message: value.message,
      ...(value.stack ? { stack: value.stack } : {}),
      ...(value.cause !== undefined ? { cause: clean(value.cause, depth + 1) } : {}),
    };
  if (Array.isArray(value)) return value.map((v) => clean(v, depth + 1));
  if (value && typeof value === 'object' && !(value instanceof Date))
    return cleanObject(value, depth);
  return value;
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
