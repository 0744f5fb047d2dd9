// @ts-check
/**
 * The console's own script, served fingerprinted at /assets/app-<hash>.js (routes/assets.ts) (no inline
 * scripts: the CSP forbids them). Everything works without it as plain forms; it adds:
 * - the browser's IANA zone in the `tz` cookie, so pages render in the viewer's zone
 *   (reloads once when the page was rendered in another zone and the admin chose none);
 * - confirmation in our own `<dialog>` for forms and buttons with `data-confirm`
 *   (see views/components/confirm.tsx), instead of the browser's confirm();
 * - "select all" checkboxes (`data-select-all="<name>"`) and live selected counts
 *   (`data-selected-count="<name>"`);
 * - htmx errors shown inline in #flash (a proxy's 502, a dropped connection): the server's
 *   own error fragments already retarget themselves there;
 * - polling (`data-poll`) held while a dialog is open, so a row being confirmed is not
 *   swapped away underneath it;
 * - relative times ("in 2 min", "3 h ago") beside every `<time data-relative>`, kept fresh;
 * - copy-to-clipboard buttons (`data-copy="#selector"`);
 * - frames marked `data-fit-content` (the Outbox's email) as tall as their document, so
 *   the message is shown whole instead of in the browser's default 300 × 150 box;
 * - a live CLI run's output (`<pre data-cli-stream="<events url>" data-cli-after="<bytes>">`):
 *   server-sent events append each chunk as it arrives; the page reloads once the run ends.
 */
(() => {
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    const current = (document.cookie.match(/(?:^|; )tz=([^;]*)/) || [])[1];
    if (zone && decodeURIComponent(current || '') !== zone) {
      // biome-ignore lint/suspicious/noDocumentCookie: the Cookie Store API is not in every browser the console supports (Firefox, older Safari).
      document.cookie = `tz=${encodeURIComponent(zone)}; path=/; max-age=31536000; SameSite=Lax`;
      const body = document.body;
      if (body && body.dataset.zoneSource === 'browser' && body.dataset.zone !== zone)
        location.reload();
    }
  } catch (_e) {}

  function ticked(name) {
    return document.querySelectorAll(`input[type=checkbox][name="${name}"]:checked`).length;
  }
  function updateCounts() {
    const outs = document.querySelectorAll('[data-selected-count]');
    for (let i = 0; i < outs.length; i++) {
      const n = ticked(outs[i].getAttribute('data-selected-count'));
      outs[i].textContent = n === 0 ? 'None selected' : `${n} selected`;
    }
  }
  function inline(text, tone) {
    const flash = document.getElementById('flash');
    if (!flash) return;
    const box = document.createElement('div');
    box.className = `flash flash-${tone || 'error'}`;
    box.setAttribute('role', tone === 'error' || !tone ? 'alert' : 'status');
    box.textContent = text;
    flash.replaceChildren(box);
    flash.scrollIntoView({ block: 'nearest' });
  }

  document.addEventListener('change', (event) => {
    const target = /** @type {Element} */ (event.target);
    const all = /** @type {HTMLInputElement | null} */ (target.closest?.('[data-select-all]'));
    if (all) {
      const boxes = /** @type {NodeListOf<HTMLInputElement>} */ (
        document.querySelectorAll(
          `input[type=checkbox][name="${all.getAttribute('data-select-all')}"]`,
        )
      );
      for (let i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
    }
    updateCounts();
  });

  const plurals = typeof Intl.PluralRules === 'function' ? new Intl.PluralRules('en') : null;
  // Confirmation: caught in the capture phase, before htmx sees the submit; sent again
  // (once, marked) when the admin goes ahead.
  /** @type {HTMLDialogElement | null} */
  let dialog = null;
  document.addEventListener(
    'submit',
    (event) => {
      const form = /** @type {HTMLFormElement} */ (event.target);
      if (form.method === 'dialog') return;
      if (form.dataset.confirmed === 'yes') {
        delete form.dataset.confirmed;
        return;
      }
      const submitter = /** @type {HTMLElement | null} */ (event.submitter || null);
      const asking = submitter?.hasAttribute('data-confirm')
        ? submitter
        : form.hasAttribute('data-confirm')
          ? form
          : null;
      if (!asking) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      const countName = asking.getAttribute('data-confirm-count');
      const countFrom = asking.getAttribute('data-confirm-count-from');
      const source = /** @type {HTMLInputElement | null} */ (
        countFrom && document.querySelector(countFrom)
      );
      const n = countName ? ticked(countName) : source ? Number(source.value) || 0 : 0;
      if ((countName || source) && n === 0 && asking.hasAttribute('data-confirm-none')) {
        inline(asking.getAttribute('data-confirm-none'), 'error');
        return;
      }
      const one = plurals ? plurals.select(n) === 'one' : n === 1;
      const fill = (attr) => {
        const text = (one && asking.getAttribute(`${attr}-one`)) || asking.getAttribute(attr) || '';
        return text.split('{n}').join(n.toLocaleString('en'));
      };
      // A boosted navigation swaps the body, dialog included: never keep a detached one.
      if (!dialog?.isConnected)
        dialog = /** @type {HTMLDialogElement | null} */ (
          document.getElementById('confirm-dialog')
        );
      if (!dialog?.showModal) {
        // No dialog on this page: fall back to the browser's own question.
        if (window.confirm(fill('data-confirm'))) {
          form.dataset.confirmed = 'yes';
          form.requestSubmit(submitter);
        }
        return;
      }
      document.getElementById('confirm-title').textContent = fill('data-confirm');
      document.getElementById('confirm-detail').textContent = fill('data-confirm-detail');
      const ok = document.getElementById('confirm-ok');
      ok.textContent = fill('data-confirm-ok') || 'Confirm';
      ok.className = asking.getAttribute('data-confirm-tone') === 'primary' ? '' : 'danger';
      dialog.returnValue = '';
      dialog.onclose = () => {
        dialog.onclose = null;
        if (dialog.returnValue !== 'ok' || !form.isConnected) return;
        form.dataset.confirmed = 'yes';
        if (submitter?.isConnected) form.requestSubmit(submitter);
        else form.requestSubmit();
      };
      dialog.showModal();
    },
    true,
  );

  // htmx's events are CustomEvents whose `detail` is documented at htmx.org/events.
  document.addEventListener('htmx:beforeRequest', (/** @type {CustomEvent} */ event) => {
    const elt = event.detail?.elt;
    if (elt?.hasAttribute?.('data-poll') && document.querySelector('dialog[open]'))
      event.preventDefault();
  });
  // An error answer that is not one of our fragments (those retarget themselves to #flash)
  // must not replace the element that asked: keep it, so its poll goes on, and say so.
  document.addEventListener('htmx:beforeSwap', (/** @type {CustomEvent} */ event) => {
    const d = event.detail;
    if (d?.isError && d.xhr && !d.xhr.getResponseHeader('HX-Retarget')) d.shouldSwap = false;
  });
  document.addEventListener('htmx:responseError', (/** @type {CustomEvent} */ event) => {
    const xhr = event.detail?.xhr;
    // Our own error fragments retarget themselves to #flash; anything else gets a line here.
    if (!xhr || xhr.getResponseHeader('HX-Retarget')) return;
    inline(
      'The server answered ' +
        xhr.status +
        (xhr.statusText ? ` ${xhr.statusText}` : '') +
        '. Nothing on this page was changed; try again in a moment.',
      'error',
    );
  });
  document.addEventListener('htmx:sendError', () => {
    inline(
      'The server could not be reached. Check your connection; this page updates again once it answers.',
      'error',
    );
  });

  const rtf =
    typeof Intl.RelativeTimeFormat === 'function'
      ? new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' })
      : null;
  /** "2026-12-08" for an instant, in the zone the page is shown in (the browser's if none). */
  let dayFormat = null;
  function calendarDay(ms) {
    if (!dayFormat) {
      /** @type {Intl.DateTimeFormatOptions} */
      const options = { year: 'numeric', month: '2-digit', day: '2-digit' };
      try {
        dayFormat = new Intl.DateTimeFormat('en-CA', {
          ...options,
          timeZone: document.body?.dataset.zone || undefined,
        });
      } catch (_e) {
        dayFormat = new Intl.DateTimeFormat('en-CA', options);
      }
    }
    const [y, m, d] = dayFormat.format(new Date(ms)).split('-').map(Number);
    return Date.UTC(y, m - 1, d) / 86400000;
  }
  // Under a day apart: seconds, minutes or hours (02:00 today is "18 hr. ago" at 20:00, never
  // "yesterday"); from a day: calendar days in the page's zone ("yesterday" is the day before).
  function relative(at, now) {
    const s = Math.round((at - now) / 1000),
      a = Math.abs(s);
    if (a < 45) return rtf.format(s, 'second');
    if (a < 2700) return rtf.format(Math.round(s / 60), 'minute');
    if (a < 86400) return rtf.format(Math.round(s / 3600), 'hour');
    if (a < 2592000) return rtf.format(calendarDay(at) - calendarDay(now), 'day');
    if (a < 31536000) return rtf.format(Math.round(s / 2592000), 'month');
    return rtf.format(Math.round(s / 31536000), 'year');
  }
  function relativeTimes() {
    if (!rtf) return;
    const times = document.querySelectorAll('time[data-relative]');
    const now = Date.now();
    for (let i = 0; i < times.length; i++) {
      const t = times[i];
      const at = Date.parse(t.getAttribute('datetime'));
      if (Number.isNaN(at)) continue;
      let next = t.nextElementSibling;
      if (!next?.classList.contains('relative')) {
        next = document.createElement('span');
        next.className = 'relative';
        t.after(next);
      }
      next.textContent = ` (${relative(at, now)})`;
    }
  }
  /** Each `iframe[data-fit-content]` (same-origin, sandboxed) as tall as its document. */
  function fitFrames() {
    const frames = document.querySelectorAll('iframe[data-fit-content]');
    for (let i = 0; i < frames.length; i++) {
      const frame = /** @type {HTMLIFrameElement} */ (frames[i]);
      const size = () => {
        const root = frame.contentDocument?.documentElement;
        if (!root) return;
        // Measured at no height, so a frame taller than its email shrinks to it too.
        frame.style.height = '0px';
        // Its border-box height: the document's plus the frame's own borders.
        const borders = frame.offsetHeight - frame.clientHeight;
        frame.style.height = `${root.scrollHeight + borders}px`;
      };
      if (!frame.dataset.fitting) {
        frame.dataset.fitting = 'yes';
        frame.addEventListener('load', size);
      }
      size();
    }
  }
  function streamRuns() {
    const blocks = document.querySelectorAll('pre[data-cli-stream]');
    for (let i = 0; i < blocks.length; i++) follow(blocks[i]);
  }
  function follow(pre) {
    if (pre.getAttribute('data-cli-streaming')) return;
    pre.setAttribute('data-cli-streaming', 'true');
    if (typeof EventSource !== 'function') {
      // No server-sent events here: reload every few seconds instead.
      setTimeout(() => {
        location.reload();
      }, 3000);
      return;
    }
    const url =
      pre.getAttribute('data-cli-stream') +
      '?after=' +
      encodeURIComponent(pre.getAttribute('data-cli-after') || '0');
    const source = new EventSource(url);
    const gone = () => {
      if (document.body.contains(pre)) return false;
      source.close();
      return true;
    };
    source.addEventListener('output', (event) => {
      if (gone()) return;
      const chunk = JSON.parse(event.data);
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.appendChild(document.createTextNode(chunk.text));
      if (atEnd) pre.scrollTop = pre.scrollHeight;
      // The byte count beside the output (data-cli-bytes names it) follows the stream.
      const bytes = document.getElementById(pre.getAttribute('data-cli-bytes') || '');
      if (bytes && typeof chunk.size === 'number') bytes.textContent = String(chunk.size);
    });
    source.addEventListener('status', (event) => {
      if (gone()) return;
      pre.setAttribute('data-cli-status', event.data);
    });
    source.addEventListener('end', () => {
      source.close();
      if (!gone()) location.reload();
    });
  }

  relativeTimes();
  updateCounts();
  streamRuns();
  fitFrames();
  setInterval(relativeTimes, 30000);
  window.addEventListener('resize', fitFrames);
  document.addEventListener('htmx:afterSettle', () => {
    relativeTimes();
    updateCounts();
    streamRuns();
    fitFrames();
  });

  document.addEventListener('click', (event) => {
    const target = /** @type {Element} */ (event.target);
    const button = target.closest?.('[data-copy]');
    if (!button) return;
    const source = document.querySelector(button.getAttribute('data-copy'));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => {
        button.textContent = 'Copied';
      });
    }
  });
})();
