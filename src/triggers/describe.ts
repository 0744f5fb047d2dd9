import cronstrue from 'cronstrue';

/**
 * An expression in words ("At 09:00, Monday through Friday") by cronstrue, or null when
 * cronstrue cannot read it (the editor shows the validation error instead).
 */
export function describeExpression(expression: string): string | null {
  try {
    return cronstrue.toString(expression, {
      use24HourTimeFormat: true,
      throwExceptionOnParseError: true,
    });
  } catch {
    return null;
  }
}

/** The editor's presets: a label and its expression. */
export const PRESETS = [
  { label: 'Every 5 minutes', expression: '*/5 * * * *' },
  { label: 'Hourly', expression: '0 * * * *' },
  { label: 'Daily at 9:00', expression: '0 9 * * *' },
  { label: 'Weekdays at 9:00', expression: '0 9 * * 1-5' },
  { label: 'Weekly on Monday', expression: '0 9 * * 1' },
] as const;
