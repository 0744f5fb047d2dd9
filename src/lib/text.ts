// A high surrogate not followed by a low one, or a low one not preceded by a high one
// (String.prototype.isWellFormed, which the ES2023 lib this project targets lacks).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether a string can be stored as PostgreSQL `text` unchanged: it holds no NUL (U+0000),
 * which PostgreSQL rejects in text and jsonb (an error, i.e. a 500, if it got that far),
 * and no unpaired UTF-16 surrogate, which is not Unicode text and would be written as
 * U+FFFD (silently changed). Input is checked with this before it reaches the database.
 */
export function isStorableText(value: string): boolean {
  return !value.includes('\0') && !LONE_SURROGATE.test(value);
}

/** The message for input {@link isStorableText} refuses; validation names the field. */
export const NOT_STORABLE_TEXT = 'must not contain NUL (U+0000) or unpaired surrogate characters';
