/**
 * The public, deterministic credentials of QStash's local development server ("User 1"),
 * from upstash/docs `qstash/howto/local-development.mdx`. They are not secrets: anyone can
 * read them there. Embedded mode and tests use them with our emulator.
 */
export const LOCAL_QSTASH = {
  token: 'eyJVc2VySUQiOiJkZWZhdWx0VXNlciIsIlBhc3N3b3JkIjoiZGVmYXVsdFBhc3N3b3JkIn0=',
  currentSigningKey: 'sig_7kYjw48mhY7kAjqNGcy6cr29RJ6r',
  nextSigningKey: 'sig_5ZB6DVzB1wjE8S6rZ7eenA8Pdnhs',
} as const;
