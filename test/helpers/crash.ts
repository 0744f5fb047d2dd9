/**
 * A process death right after an outside call returned, before anything was recorded: wrap
 * a client (the Fly client, the controller client) with {@link CrashSwitch.wrap}, arm a verb
 * name, and the next call of that verb does its effect, then throws instead of answering.
 * Once only; `crashes` counts the deaths so a test can check its case really happened.
 */
export type CrashSwitch = {
  /** The verb whose next call dies after its effect (null: none). */
  arm(verb: string | null): void;
  readonly crashes: number;
  wrap<T extends object>(client: T): T;
};

export function crashSwitch(): CrashSwitch {
  let armed: string | null = null;
  let crashes = 0;
  return {
    arm(verb) {
      armed = verb;
    },
    get crashes() {
      return crashes;
    },
    wrap(client) {
      return new Proxy(client, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver);
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            const result = await (value as (...a: unknown[]) => unknown).apply(target, args);
            if (armed === key) {
              armed = null;
              crashes++;
              throw new Error(`the process died after ${String(key)}, before recording it`);
            }
            return result;
          };
        },
      });
    },
  };
}
