// A command template becomes argv for spawn(): each `{name}` placeholder inside an argv
// element is replaced by its value, and the element stays one argument whatever the value
// holds (spaces, quotes, `;`, `$(…)`): no shell ever sees the prompt.

/** How the prompt reaches the command. */
export type PromptDelivery =
  /** `{prompt}` appears in an argv element. */
  | 'argv'
  /** `{promptFile}` appears: a file holding the prompt (UTF-8), its path in the element. */
  | 'file'
  /** Neither appears: the prompt is written to the command's stdin, which then closes. */
  | 'stdin';

/** Where the prompt goes for this template (see {@link PromptDelivery}). */
export function promptDelivery(command: readonly string[]): PromptDelivery {
  if (command.some((a) => a.includes('{prompt}'))) return 'argv';
  if (command.some((a) => a.includes('{promptFile}'))) return 'file';
  return 'stdin';
}

/**
 * `command` with every `{name}` of `values` replaced (other braces are left as they are).
 * Values are inserted literally, once: a value containing `{prompt}` is not expanded again.
 */
export function expand(command: readonly string[], values: Record<string, string>): string[] {
  return command.map((arg) =>
    arg.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) =>
      Object.hasOwn(values, name) ? (values[name] as string) : whole,
    ),
  );
}
