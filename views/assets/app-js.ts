/**
 * The console's own script, served fingerprinted at /assets/app-<hash>.js (no inline
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
 * - a live CLI run's output (`<pre data-cli-stream="<events url>" data-cli-after="<bytes>">`):
 *   server-sent events append each chunk as it arrives; the page reloads once the run ends.
 */
export const APP_JS = `(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var current = (document.cookie.match(/(?:^|; )tz=([^;]*)/) || [])[1];
    if (zone && decodeURIComponent(current || '') !== zone) {
      document.cookie = 'tz=' + encodeURIComponent(zone) + '; path=/; max-age=31536000; SameSite=Lax';
      var body = document.body;
      if (body && body.dataset.zoneSource === 'browser' && body.dataset.zone !== zone) location.reload();
    }
  } catch (e) {}

  function ticked(name) {
    return document.querySelectorAll('input[type=checkbox][name="' + name + '"]:checked').length;
  }
  function updateCounts() {
    var outs = document.querySelectorAll('[data-selected-count]');
    for (var i = 0; i < outs.length; i++) {
      var n = ticked(outs[i].getAttribute('data-selected-count'));
      outs[i].textContent = n === 0 ? 'None selected' : n + ' selected';
    }
  }
  function inline(text, tone) {
    var flash = document.getElementById('flash');
    if (!flash) return;
    var box = document.createElement('div');
    box.className = 'flash flash-' + (tone || 'error');
    box.setAttribute('role', tone === 'error' || !tone ? 'alert' : 'status');
    box.textContent = text;
    flash.replaceChildren(box);
    flash.scrollIntoView({ block: 'nearest' });
  }

  document.addEventListener('change', function (event) {
    var all = event.target.closest && event.target.closest('[data-select-all]');
    if (all) {
      var boxes = document.querySelectorAll(
        'input[type=checkbox][name="' + all.getAttribute('data-select-all') + '"]'
      );
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
    }
    updateCounts();
  });

  var plurals = typeof Intl.PluralRules === 'function' ? new Intl.PluralRules('en') : null;
  // Confirmation: caught in the capture phase, before htmx sees the submit; sent again
  // (once, marked) when the admin goes ahead.
  var dialog = null;
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (form.method === 'dialog') return;
    if (form.dataset.confirmed === 'yes') {
      delete form.dataset.confirmed;
      return;
    }
    var submitter = event.submitter || null;
    var asking = submitter && submitter.hasAttribute('data-confirm') ? submitter
      : form.hasAttribute('data-confirm') ? form : null;
    if (!asking) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var countName = asking.getAttribute('data-confirm-count');
    var countFrom = asking.getAttribute('data-confirm-count-from');
    var source = countFrom && document.querySelector(countFrom);
    var n = countName ? ticked(countName) : source ? Number(source.value) || 0 : 0;
    if ((countName || source) && n === 0 && asking.hasAttribute('data-confirm-none')) {
      inline(asking.getAttribute('data-confirm-none'), 'error');
      return;
    }
    var one = plurals ? plurals.select(n) === 'one' : n === 1;
    var fill = function (attr) {
      var text = (one && asking.getAttribute(attr + '-one')) || asking.getAttribute(attr) || '';
      return text.split('{n}').join(n.toLocaleString('en'));
    };
    // A boosted navigation swaps the body, dialog included: never keep a detached one.
    if (!dialog || !dialog.isConnected) dialog = document.getElementById('confirm-dialog');
    if (!dialog || !dialog.showModal) {
      // No dialog on this page: fall back to the browser's own question.
      if (window.confirm(fill('data-confirm'))) {
        form.dataset.confirmed = 'yes';
        form.requestSubmit(submitter);
      }
      return;
    }
    document.getElementById('confirm-title').textContent = fill('data-confirm');
    document.getElementById('confirm-detail').textContent = fill('data-confirm-detail');
    var ok = document.getElementById('confirm-ok');
    ok.textContent = fill('data-confirm-ok') || 'Confirm';
    ok.className = asking.getAttribute('data-confirm-tone') === 'primary' ? '' : 'danger';
    dialog.returnValue = '';
    dialog.onclose = function () {
      dialog.onclose = null;
      if (dialog.returnValue !== 'ok' || !form.isConnected) return;
      form.dataset.confirmed = 'yes';
      if (submitter && submitter.isConnected) form.requestSubmit(submitter);
      else form.requestSubmit();
    };
    dialog.showModal();
  }, true);

  document.addEventListener('htmx:beforeRequest', function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute('data-poll') && document.querySelector('dialog[open]'))
      event.preventDefault();
  });
  // An error answer that is not one of our fragments (those retarget themselves to #flash)
  // must not replace the element that asked: keep it, so its poll goes on, and say so.
  document.addEventListener('htmx:beforeSwap', function (event) {
    var d = event.detail;
    if (d && d.isError && d.xhr && !d.xhr.getResponseHeader('HX-Retarget')) d.shouldSwap = false;
  });
  document.addEventListener('htmx:responseError', function (event) {
    var xhr = event.detail && event.detail.xhr;
    // Our own error fragments retarget themselves to #flash; anything else gets a line here.
    if (!xhr || xhr.getResponseHeader('HX-Retarget')) return;
    inline('The server answered ' + xhr.status + (xhr.statusText ? ' ' + xhr.statusText : '') +
      '. Nothing on this page was changed; try again in a moment.', 'error');
  });
  document.addEventListener('htmx:sendError', function () {
    inline('The server could not be reached. Check your connection; this page updates again once it answers.', 'error');
  });

  var rtf = typeof Intl.RelativeTimeFormat === 'function'
    ? new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' }) : null;
  function relative(ms) {
    var s = Math.round(ms / 1000), a = Math.abs(s);
    if (a < 45) return rtf.format(s, 'second');
    if (a < 2700) return rtf.format(Math.round(s / 60), 'minute');
    if (a < 64800) return rtf.format(Math.round(s / 3600), 'hour');
    if (a < 2592000) return rtf.format(Math.round(s / 86400), 'day');
    if (a < 31536000) return rtf.format(Math.round(s / 2592000), 'month');
    return rtf.format(Math.round(s / 31536000), 'year');
  }
  function relativeTimes() {
    if (!rtf) return;
    var times = document.querySelectorAll('time[data-relative]');
    var now = Date.now();
    for (var i = 0; i < times.length; i++) {
      var t = times[i];
      var at = Date.parse(t.getAttribute('datetime'));
      if (isNaN(at)) continue;
      var next = t.nextElementSibling;
      if (!next || !next.classList.contains('relative')) {
        next = document.createElement('span');
        next.className = 'relative';
        t.after(next);
      }
      next.textContent = ' (' + relative(at - now) + ')';
    }
  }
  function streamRuns() {
    var blocks = document.querySelectorAll('pre[data-cli-stream]');
    for (var i = 0; i < blocks.length; i++) follow(blocks[i]);
  }
  function follow(pre) {
    if (pre.getAttribute('data-cli-streaming')) return;
    pre.setAttribute('data-cli-streaming', 'true');
    if (typeof EventSource !== 'function') {
      // No server-sent events here: reload every few seconds instead.
      setTimeout(function () { location.reload(); }, 3000);
      return;
    }
    var url = pre.getAttribute('data-cli-stream') + '?after=' +
      encodeURIComponent(pre.getAttribute('data-cli-after') || '0');
    var source = new EventSource(url);
    var gone = function () {
      if (document.body.contains(pre)) return false;
      source.close();
      return true;
    };
    source.addEventListener('output', function (event) {
      if (gone()) return;
      var chunk = JSON.parse(event.data);
      var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.appendChild(document.createTextNode(chunk.text));
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    });
    source.addEventListener('status', function (event) {
      if (gone()) return;
      pre.setAttribute('data-cli-status', event.data);
    });
    source.addEventListener('end', function () {
      source.close();
      if (!gone()) location.reload();
    });
  }

  relativeTimes();
  updateCounts();
  streamRuns();
  setInterval(relativeTimes, 30000);
  document.addEventListener('htmx:afterSettle', function () {
    relativeTimes();
    updateCounts();
    streamRuns();
  });

  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-copy]');
    if (!button) return;
    var source = document.querySelector(button.getAttribute('data-copy'));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = 'Copied';
      });
    }
  });
})();
`;

/** Boots Swagger UI on /api/docs from an external file, as the CSP requires. */
export const API_DOCS_JS = `window.addEventListener('load', function () {
  window.SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', deepLinking: true });
});
`;
