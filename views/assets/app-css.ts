/** The console's stylesheet, served fingerprinted at /assets/app-<hash>.css. */
export const APP_CSS = `
:root {
  --bg: #f7f7f5; --panel: #fff; --text: #1d1d1b; --muted: #6b6b66; --line: #e2e2dc;
  --accent: #3451b2; --accent-text: #fff; --danger: #b42318; --ok: #067647; --warn: #b54708;
  --info: #175cd3; --radius: 6px; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  color-scheme: light;
}
* { box-sizing: border-box; }
html { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
body { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: var(--mono); font-size: 12.5px; }
h1 { font-size: 20px; margin: 0 0 16px; }
h2 { font-size: 16px; margin: 24px 0 10px; }
/* minmax(0, 1fr): the content column never grows past the window for a wide table. */
.shell { display: grid; grid-template-columns: 200px minmax(0, 1fr); min-height: 100vh; }
.nav { background: #1f2330; color: #cfd3dc; padding: 16px 0; }
.nav .brand { color: #fff; font-weight: 700; padding: 0 18px 14px; display: block; letter-spacing: .3px; }
.nav a { display: block; color: #cfd3dc; padding: 7px 18px; }
.nav a:hover { background: #2a3040; text-decoration: none; }
.nav a[aria-current="page"] { background: #343b4f; color: #fff; border-left: 3px solid #8da2fb; padding-left: 15px; }
.nav .who { margin-top: 24px; padding: 12px 18px; border-top: 1px solid #343b4f; font-size: 12px; }
.nav .who form { margin-top: 6px; }
.nav .who button { background: none; border: 0; color: #8da2fb; padding: 0; cursor: pointer; font: inherit; }
main { padding: 24px 28px; max-width: 1680px; min-width: 0; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 16px; margin-bottom: 16px; }
.toolbar { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin-bottom: 12px; }
.toolbar label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 3px; }
input, select, textarea { font: inherit; padding: 6px 8px; border: 1px solid #c9c9c2; border-radius: var(--radius); background: #fff; color: inherit; }
input:focus, select:focus, textarea:focus, button:focus-visible { outline: 2px solid #8da2fb; outline-offset: 1px; }
button, .button { font: inherit; padding: 6px 12px; border-radius: var(--radius); border: 1px solid var(--accent); background: var(--accent); color: var(--accent-text); cursor: pointer; display: inline-block; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--danger); border-color: var(--danger); }
button:disabled { opacity: .5; cursor: not-allowed; }
table { width: 100%; border-collapse: collapse; background: var(--panel); }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
th a { color: inherit; }
tr:hover td { background: #fafaf7; }
.table-wrap { border: 1px solid var(--line); border-radius: var(--radius); overflow-x: auto; }
.muted { color: var(--muted); }
.small { font-size: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; border: 1px solid currentColor; white-space: nowrap; }
.badge-ok { color: var(--ok); } .badge-warn { color: var(--warn); } .badge-danger { color: var(--danger); }
.badge-info { color: var(--info); } .badge-muted { color: var(--muted); }
.pager { display: flex; gap: 8px; align-items: center; justify-content: space-between; margin-top: 10px; }
.empty { text-align: center; padding: 40px 16px; color: var(--muted); }
.empty strong { display: block; color: var(--text); font-size: 15px; margin-bottom: 4px; }
.flash { padding: 10px 12px; border-radius: var(--radius); margin-bottom: 12px; border: 1px solid; }
.flash-error { background: #fef3f2; border-color: #fecdca; color: var(--danger); }
.flash-ok { background: #ecfdf3; border-color: #abefc6; color: var(--ok); }
.flash-warn { background: #fffaeb; border-color: #fedf89; color: var(--warn); }
.secret { font-family: var(--mono); background: #f2f4f7; padding: 8px 10px; border-radius: var(--radius); word-break: break-all; user-select: all; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; }
.login { max-width: 360px; margin: 12vh auto; }
.login form { display: flex; flex-direction: column; gap: 12px; }
.login label { display: flex; flex-direction: column; gap: 4px; }
.stack { display: flex; flex-direction: column; gap: 10px; max-width: 420px; }
.stack label { display: flex; flex-direction: column; gap: 4px; }
.inline { display: inline; }
.htmx-indicator { opacity: 0; transition: opacity 200ms; }
.htmx-request .htmx-indicator, .htmx-request.htmx-indicator { opacity: 1; }
.steps { display: flex; flex-wrap: wrap; gap: 6px; list-style: none; padding: 0; margin: 6px 0; }
.steps-log { padding-left: 18px; margin: 6px 0; }
.steps-log li { margin: 4px 0; }
.steps li { padding: 2px 8px; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); }
.steps li.done { color: var(--ok); border-color: var(--ok); }
.steps li.current { color: var(--info); border-color: var(--info); font-weight: 600; }
.timeline { list-style: none; padding: 0; margin: 0; }
.timeline li { padding: 6px 0 6px 12px; border-left: 2px solid var(--line); margin-left: 4px; }
.timeline li.failed { border-left-color: var(--danger); }
h3 { font-size: 14px; margin: 16px 0 6px; }
details.panel summary { cursor: pointer; font-weight: 600; }
fieldset { border: 1px solid var(--line); border-radius: var(--radius); padding: 10px 12px; margin: 0; display: flex; flex-direction: column; gap: 8px; }
legend { font-weight: 600; padding: 0 4px; }
.schedule-form .stack { max-width: none; }
.schedule-form textarea { font-family: var(--mono); font-size: 12.5px; width: 100%; }
label.check { flex-direction: row; align-items: center; gap: 6px; display: flex; }
.preview { margin-top: 16px; border-top: 1px solid var(--line); padding-top: 8px; }
.exclusions { list-style: none; padding: 0; margin: 8px 0; }
.exclusions summary { cursor: pointer; }
progress.bar { width: 140px; height: 10px; vertical-align: middle; accent-color: var(--ok); }
.error-text { color: var(--danger); display: block; }
.counters { display: inline-block; max-width: 22em; }
.actions-bar { margin: 12px 0 0; }
.bulk { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 8px 10px; }
td.select, th.select { width: 28px; }
time { white-space: nowrap; }
.relative { color: var(--muted); font-size: 12px; white-space: nowrap; }
/* In tables the relative time goes under the absolute one, and ids may break: rows stay
   within the window at 1280 px instead of scrolling sideways. */
td .relative { display: block; }
td code:not(.version) { overflow-wrap: anywhere; }
code.version { white-space: nowrap; }
#instances-table td:nth-child(2) a, #targets-table td:nth-child(2) > a { white-space: nowrap; }
dialog.confirm { border: 1px solid var(--line); border-radius: var(--radius); padding: 20px 22px; max-width: 480px; width: calc(100% - 32px); box-shadow: 0 12px 40px rgba(16, 24, 40, .25); }
dialog.confirm::backdrop { background: rgba(16, 24, 40, .45); }
dialog.confirm h2 { margin: 0 0 8px; }
dialog.confirm p { margin: 0 0 16px; color: var(--muted); }
.dialog-buttons { display: flex; gap: 8px; justify-content: flex-end; }
button.danger:not(:disabled):hover { background: var(--danger); color: #fff; }
.error-page { max-width: 640px; }
.error-page h1 { margin-bottom: 8px; }
.nav .count { display: inline-block; min-width: 18px; padding: 0 6px; margin-left: 6px; border-radius: 999px; background: #8da2fb; color: #1f2330; font-size: 11px; font-weight: 700; text-align: center; }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; margin: 0; font-size: 12px; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; overflow-wrap: anywhere; }
details.raw summary { cursor: pointer; color: var(--muted); font-size: 12px; }
pre.cli-output { max-height: 420px; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; background: #111827; color: #e5e7eb; padding: 8px 10px; border-radius: 6px; font-size: 12px; margin: 6px 0; }
.badge-admin { color: #6d28d9; }
details.raw pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0 0; font-size: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 16px; margin-bottom: 16px; }
.cards .panel { margin-bottom: 0; }
.chart { width: 100%; height: auto; display: block; }
.donut { margin: 0; }
.donut svg { max-width: 200px; margin: 0 auto; }
.panel > h2:first-child { margin-top: 0; }
.chart text { font: 12px system-ui, sans-serif; fill: var(--text); }
.chart .value { fill: var(--muted); }
.chart .bar { fill: var(--accent); }
.chart .tone-ok { fill: var(--ok); } .chart .tone-warn { fill: var(--warn); } .chart .tone-danger { fill: var(--danger); }
.chart .tone-info { fill: var(--info); } .chart .tone-muted { fill: #98a2b3; }
.legend { list-style: none; padding: 0; margin: 8px 0 0; display: flex; flex-wrap: wrap; gap: 4px 12px; font-size: 12px; }
.legend .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
.swatch.tone-ok { background: var(--ok); } .swatch.tone-warn { background: var(--warn); } .swatch.tone-danger { background: var(--danger); }
.swatch.tone-info { background: var(--info); } .swatch.tone-muted { background: #98a2b3; }
.big { font-size: 26px; font-weight: 700; }
ul.plain { list-style: none; padding: 0; margin: 0; }
ul.plain li { padding: 6px 0; border-bottom: 1px solid var(--line); }
ul.plain li:last-child { border-bottom: 0; }
@media (max-width: 800px) { .shell { grid-template-columns: 1fr; } .nav { padding: 8px 0; } }
`;
