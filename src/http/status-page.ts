/**
 * GET /package/status/view: a small self-contained HTML page that follows a
 * load live from the /package/status event stream (progress bar with rows,
 * MB, rate and time left; each step with its duration; the validation
 * report when the load failed). No external assets; the inline script and
 * style are allowed by their hashes in a strict CSP. The page reflects no
 * input: its script reads `datapackage` and `jwt` from its own address and
 * renders every value with textContent.
 */
import { STATUSES } from '../durable/status-machine.ts';

const STYLE = `
body{font:15px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:46rem;padding:0 1rem;color:#222}
h1{font-size:1.3rem}
#package{word-break:break-all;color:#555;font-size:.9rem}
#bar{height:1.4rem;background:#e5e5e5;border-radius:.3rem;overflow:hidden}
#fill{height:100%;width:0;background:#2f7d32;transition:width .3s}
.fail #fill{background:#b3261e}
#figures{font-variant-numeric:tabular-nums;color:#333}
#steps li{font-variant-numeric:tabular-nums}
#steps .dur{color:#666;margin-left:.5rem}
#steps li.current{font-weight:600}
#error{color:#b3261e;font-weight:600}
table{border-collapse:collapse;font-size:.85rem;margin-top:1rem}
th,td{border:1px solid #ccc;padding:.2rem .4rem;text-align:left;vertical-align:top}
`;

/** The page's script (plain ES2017, no dependencies). */
const SCRIPT = `
(function () {
  'use strict';
  var ORDER = ${JSON.stringify(STATUSES)};
  var query = new URLSearchParams(location.search);
  var datapackage = query.get('datapackage') || '';
  var jwt = query.get('jwt');
  var el = function (id) { return document.getElementById(id); };
  var last = null;
  var receivedAt = 0;
  el('package').textContent = datapackage;

  function params() {
    var p = new URLSearchParams({ datapackage: datapackage });
    if (jwt) p.set('jwt', jwt);
    return p.toString();
  }
  function seconds(ms) {
    var s = ms / 1000;
    return s < 10 ? s.toFixed(1) + ' s' : s < 120 ? Math.round(s) + ' s' : Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  }
  function mb(bytes) { return (bytes / 1e6).toFixed(1) + ' MB'; }
  function stepMs(s, step) {
    var ms = s.steps[step] || 0;
    if (step === s.status && s.status !== 'done' && s.status !== 'fail') ms += s.now - s.stepStartedAt + (Date.now() - receivedAt);
    return ms;
  }
  function renderSteps(s) {
    var list = el('steps');
    list.textContent = '';
    ORDER.forEach(function (step) {
      var seen = Object.prototype.hasOwnProperty.call(s.steps, step);
      if (!seen && step !== s.status) return;
      var li = document.createElement('li');
      li.setAttribute('data-step', step);
      if (step === s.status) li.className = 'current';
      li.appendChild(document.createTextNode(step));
      if (step !== 'done' && step !== 'fail') {
        var dur = document.createElement('span');
        dur.className = 'dur';
        dur.textContent = seconds(stepMs(s, step));
        li.appendChild(dur);
      }
      list.appendChild(li);
    });
  }
  function renderFigures(s) {
    var pct = Math.round(Math.max(0, Math.min(1, s.fraction)) * 1000) / 10;
    el('fill').style.width = pct + '%';
    el('bar').setAttribute('aria-valuenow', String(pct));
    var parts = [s.records.toLocaleString('en') + (s.total != null ? ' of ' + s.total.toLocaleString('en') : '') + ' rows'];
    var bytes = s.status === 'done' && s.bytesTotal != null ? s.bytesTotal : s.bytes;
    if (bytes != null) parts.push(mb(bytes) + (s.bytesTotal != null ? ' of ' + mb(s.bytesTotal) : ''));
    var loadMs = stepMs(s, 'loading-data');
    if (loadMs > 0 && s.records > 0) {
      var rate = s.records / (loadMs / 1000);
      parts.push(Math.round(rate).toLocaleString('en') + ' rows/s' + (bytes ? ', ' + (bytes / 1e3 / loadMs).toFixed(1) + ' MB/s' : ''));
      if (bytes && s.bytesTotal && s.status === 'loading-data') {
        var left = (s.bytesTotal - bytes) / (bytes / loadMs);
        parts.push(seconds(Math.max(0, left)) + ' left');
      }
    }
    parts.push(pct + '%');
    el('figures').textContent = parts.join(' \\u00b7 ');
  }
  function render(s) {
    last = s;
    receivedAt = Date.now();
    el('state').textContent = s.status;
    document.body.className = s.status === 'fail' ? 'fail' : s.status === 'done' ? 'done' : '';
    renderFigures(s);
    renderSteps(s);
    el('error').textContent = s.status === 'fail' ? s.error || 'load failed' : '';
  }
  function cell(row, text, tag) {
    var c = document.createElement(tag || 'td');
    c.textContent = text == null ? '' : String(text);
    row.appendChild(c);
  }
  function showReport(report) {
    var errors = report && Array.isArray(report.errors) ? report.errors : [];
    if (errors.length === 0) return;
    var table = el('report');
    var head = document.createElement('tr');
    ['row', 'field', 'type', 'message', 'cell'].forEach(function (t) { cell(head, t, 'th'); });
    table.appendChild(head);
    errors.forEach(function (e) {
      var tr = document.createElement('tr');
      tr.className = 'report-error';
      cell(tr, e.rowNumber);
      cell(tr, e.fieldName != null ? e.fieldName : e.fieldNumber);
      cell(tr, e.title || e.type);
      cell(tr, e.message);
      cell(tr, e.cell);
      table.appendChild(tr);
    });
    table.hidden = false;
  }
  function ended(s) {
    source.close();
    if (s.status !== 'fail') return;
    fetch('../report?' + params(), { credentials: 'same-origin' })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(showReport, function () { return undefined; });
  }
  var source = new EventSource('../status?' + params());
  source.addEventListener('status', function (ev) {
    var s = JSON.parse(ev.data);
    render(s);
    el('connection').textContent = '';
    if (s.status === 'done' || s.status === 'fail') ended(s);
  });
  source.onerror = function () {
    el('connection').textContent = source.readyState === EventSource.CLOSED ? 'The status stream is closed.' : 'Reconnecting\\u2026';
  };
  setInterval(function () {
    if (last && last.status !== 'done' && last.status !== 'fail') { renderSteps(last); renderFigures(last); }
  }, 1000);
})();
`;

const HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Load status</title>
<style>${STYLE}</style>
</head><body>
<h1>Load status: <span id="state">connecting</span></h1>
<p id="package"></p>
<div id="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><div id="fill"></div></div>
<p id="figures"></p>
<ol id="steps"></ol>
<p id="error" role="alert"></p>
<table id="report" hidden></table>
<p id="connection"></p>
<script>${SCRIPT}</script>
</body></html>
`;

async function sha256Base64(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let binary = '';
  for (const b of digest) binary += String.fromCharCode(b);
  return btoa(binary);
}

let policy: Promise<string> | undefined;

/** The page's Content-Security-Policy: its own inline script and style by hash, requests to this origin only. */
export function statusPagePolicy(): Promise<string> {
  policy ??= Promise.all([sha256Base64(SCRIPT), sha256Base64(STYLE)]).then(
    ([script, style]) =>
      `default-src 'none'; script-src 'sha256-${script}'; style-src 'sha256-${style}'; connect-src 'self'; ` +
      `img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  );
  return policy;
}

/** The page (the same bytes for every request). */
export function statusPageHtml(): string {
  return HTML;
}
