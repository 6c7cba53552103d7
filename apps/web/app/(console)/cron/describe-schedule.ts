import cronstrue from "cronstrue";

/** The schedule in words, or null when cronstrue does not understand the expression. */
export function describeSchedule(expression: string): string | null {
  try {
    return cronstrue.toString(expression, { use24HourTimeFormat: true, verbose: false });
  } catch {
    return null;
  }
}
