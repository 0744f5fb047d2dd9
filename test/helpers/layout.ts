import type { Page } from 'playwright-core';

/** Classes htmx and the browser put on elements themselves, which need no rule of ours. */
const OWN_CLASSES = /^htmx-/;

/**
 * What is wrong with the layout of the page as shown: classes used in the document that no
 * rule of any loaded stylesheet names (an unstyled class is a missing rule or a typo), and
 * elements that stick out of their parent's box where the parent does not scroll or clip
 * (`tag.class ⊄ parent.class by N px`). Both empty on a good page.
 */
export async function layoutProblems(
  page: Page,
  within = 'main',
): Promise<{ unstyled: string[]; overflowing: string[] }> {
  return page.evaluate(
    ({ within, own }) => {
      const named = new Set<string>();
      const collect = (rules: CSSRuleList) => {
        for (const rule of Array.from(rules)) {
          if (rule instanceof CSSStyleRule)
            for (const m of rule.selectorText.matchAll(/\.([\w-]+)/g)) named.add(m[1] ?? '');
          if ('cssRules' in rule) collect((rule as CSSGroupingRule).cssRules);
        }
      };
      for (const sheet of Array.from(document.styleSheets)) collect(sheet.cssRules);
      const root = document.querySelector(within) ?? document.body;
      const used = new Set<string>();
      for (const el of [root, ...Array.from(root.querySelectorAll('[class]'))])
        for (const c of Array.from(el.classList)) used.add(c);
      const unstyled = [...used].filter((c) => !named.has(c) && !new RegExp(own).test(c)).sort();

      const label = (e: Element) =>
        `${e.tagName.toLowerCase()}${e.className && typeof e.className === 'string' ? `.${e.className.trim().replace(/\s+/g, '.')}` : ''}`;
      const overflowing: string[] = [];
      for (const el of Array.from(root.querySelectorAll('*'))) {
        const parent = el.parentElement;
        if (!parent) continue;
        const style = getComputedStyle(el);
        if (style.position === 'absolute' || style.position === 'fixed') continue;
        if (style.display === 'none' || el.closest('dialog:not([open]), template')) continue;
        const ps = getComputedStyle(parent);
        if (ps.overflowX !== 'visible' || ps.display === 'inline' || ps.display === 'contents')
          continue;
        const over =
          el.getBoundingClientRect().right -
          (parent.getBoundingClientRect().right - Number.parseFloat(ps.borderRightWidth || '0'));
        if (over > 1) overflowing.push(`${label(el)} ⊄ ${label(parent)} by ${Math.round(over)} px`);
      }
      return { unstyled, overflowing };
    },
    { within, own: OWN_CLASSES.source },
  );
}
