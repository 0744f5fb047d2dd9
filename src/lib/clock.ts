/**
 * The app's notion of "now". Features take it from `Deps` so tests can control time.
 * Queries say in a comment when the database clock (`now()`) decides instead.
 */
export type Clock = { now(): Date };

export const systemClock: Clock = { now: () => new Date() };
