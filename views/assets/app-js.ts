/**
 * The console's own script, served fingerprinted at /assets/app-<hash>.js (no inline
 * scripts: the CSP forbids them).
 * - Stores the browser's IANA zone in the `tz` cookie so pages render in the viewer's zone;
 *   reloads once when the page was rendered in another zone and the admin has not chosen one.
 * - Copy-to-clipboard buttons (`data-copy="#selector"`).
 * - "Select all on this page" (`data-select-all="<checkbox name>"`).
 * - Submit buttons that ask first (`data-confirm="…{n}…"`, `{n}` being the number of ticked
 *   checkboxes named by `data-confirm-count`); for forms where htmx's hx-confirm cannot
 *   tell the buttons apart.
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
  document.addEventListener('change', function (event) {
    var all = event.target.closest && event.target.closest('[data-select-all]');
    if (!all) return;
    var boxes = document.querySelectorAll(
      'input[type=checkbox][name="' + all.getAttribute('data-select-all') + '"]'
    );
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
  });
  document.addEventListener('click', function (event) {
    var asking = event.target.closest && event.target.closest('[data-confirm]');
    if (!asking) return;
    var count = asking.getAttribute('data-confirm-count');
    var n = count
      ? document.querySelectorAll('input[type=checkbox][name="' + count + '"]:checked').length
      : 0;
    if (!window.confirm(asking.getAttribute('data-confirm').replace('{n}', String(n))))
      event.preventDefault();
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
