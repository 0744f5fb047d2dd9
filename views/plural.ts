/**
 * Counted words with the platform's CLDR plural rules (`Intl.PluralRules`), so a count
 * never reads "1 instances" or "instance(s)". `#` in a form is replaced by the count,
 * formatted with `Intl.NumberFormat` ("1,204").
 *
 *   plural(1, { one: '# instance matches', other: '# instances match' }) → "1 instance matches"
 */
export type PluralForms = { one: string; other: string } & Partial<
  Record<'zero' | 'two' | 'few' | 'many', string>
>;

const rules = new Intl.PluralRules('en');
const numbers = new Intl.NumberFormat('en');

export function plural(n: number, forms: PluralForms): string {
  const form = forms[rules.select(n)] ?? forms.other;
  return form.replaceAll('#', numbers.format(n));
}

/** The common case: "# noun" / "# nouns" ("1 instance", "3 instances"). */
export function count(n: number, one: string, other = `${one}s`): string {
  return plural(n, { one: `# ${one}`, other: `# ${other}` });
}
