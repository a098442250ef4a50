// The Hub: a thin client of the HTTP API. The token lives in sessionStorage
// only, so closing the tab logs out.
'use strict';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('cc_token') || '';

async function api(method, path, body) {
  // A refresh still under way at logout must not go out without a token
  // (the server would answer 401 and the page would log it).
  if (!token) throw Object.assign(new Error('signed out'), { status: 0 });
  const opts = { method, headers: { Authorization: 'Bearer ' + token } };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const e = (data && data.error) || {};
    const err = new Error((e.message || res.statusText) + (e.hint ? ' (' + e.hint + ')' : ''));
    err.status = res.status;
    throw err;
  }
  return data;
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text == null ? '' : String(text);
  row.appendChild(td);
  return td;
}

async function refreshReady() {
  const pill = $('ready');
  try {
    const res = await fetch('/ready');
    pill.textContent = res.ok ? 'ready' : 'not ready';
    pill.className = 'pill ' + (res.ok ? 'ok' : 'bad');
  } catch (e) {
    pill.textContent = 'unreachable';
    pill.className = 'pill bad';
  }
}

async function refreshStatus() {
  const s = await api('GET', '/api/v1/status');
  const dl = $('status');
  dl.replaceChildren();
  const rows = [['Version', s.version + ' (' + s.git_rev + ')'], ['Started', s.started_at],
    ['Uptime', s.uptime_seconds + ' s'], ['Listen', s.http.listen],
    ['Store', s.store.driver + ', schema ' + s.store.schema_version + '/' + s.store.schema_latest]];
  for (const [k, v] of rows) {
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v;
    dl.append(dt, dd);
  }
}

async function refreshTokens() {
  const body = $('tokens');
  try {
    const data = await api('GET', '/api/v1/tokens');
    body.replaceChildren();
    for (const t of data.tokens) {
      const tr = document.createElement('tr');
      cell(tr, t.id); cell(tr, t.name); cell(tr, t.scope); cell(tr, t.created_at);
      const btn = document.createElement('button');
      btn.className = 'danger'; btn.textContent = 'Revoke';
      btn.onclick = async () => {
        if (!confirm('Revoke token ' + t.name + '?')) return;
        try { await api('DELETE', '/api/v1/tokens/' + t.id); await refreshTokens(); }
        catch (e) { $('tokens-error').textContent = e.message; }
      };
      cell(tr, '').appendChild(btn);
      body.appendChild(tr);
    }
    $('tokens-error').textContent = '';
  } catch (e) {
    $('tokens-error').textContent = e.status === 403 ? 'Token management needs an admin token.' : e.message;
  }
}

function button(label, cls, onclick) {
  const b = document.createElement('button');
  b.textContent = label;
  if (cls) b.className = cls;
  b.onclick = onclick;
  return b;
}

async function sourceAction(name, action, body) {
  try {
    if (action === 'edit') await api('PATCH', '/api/v1/sources/' + encodeURIComponent(name), body);
    else if (action === 'rm') await api('DELETE', '/api/v1/sources/' + encodeURIComponent(name));
    else await api('POST', '/api/v1/sources/' + encodeURIComponent(name) + '/' + action);
    $('sources-error').textContent = '';
    await Promise.all([refreshSources(), refreshJobs()]);
  } catch (e) {
    $('sources-error').textContent = e.message;
  }
}

async function refreshSources() {
  const data = await api('GET', '/api/v1/sources');
  const body = $('sources');
  body.replaceChildren();
  for (const s of data.sources) {
    const tr = document.createElement('tr');
    cell(tr, s.name); cell(tr, s.type);
    const prio = document.createElement('input');
    prio.type = 'number'; prio.min = 1; prio.max = 10; prio.value = s.priority;
    prio.title = 'Priority 1-10: weighs this source\'s passages in search';
    prio.onchange = () => sourceAction(s.name, 'edit', { priority: Number(prio.value) });
    cell(tr, '').appendChild(prio);
    const sched = cell(tr, s.schedule ? s.schedule + (s.tz ? ' ' + s.tz : '') : '—');
    if (s.next_run) sched.title = 'next run ' + s.next_run;
    cell(tr, s.enabled ? 'enabled' : 'paused');
    cell(tr, s.last_run || '—');
    const st = cell(tr, s.last_status || '—');
    if (s.last_error) {
      st.className = 'error';
      const why = document.createElement('div');
      why.className = 'note';
      why.textContent = s.last_error;
      st.appendChild(why);
    }
    const docs = cell(tr, String(s.documents));
    docs.title = `runs ${s.counters.runs} · ingested ${s.counters.ingested} · failed ${s.counters.failed}`;
    const actions = cell(tr, '');
    if (s.type !== 'manual') actions.appendChild(button('Run now', 'plain', () => sourceAction(s.name, 'run')));
    actions.appendChild(button(s.enabled ? 'Pause' : 'Resume', 'plain',
      () => sourceAction(s.name, s.enabled ? 'pause' : 'resume')));
    if (s.type !== 'manual') {
      actions.appendChild(button('Schedule…', 'plain', () => {
        const v = window.prompt('Cron schedule (e.g. @daily, 0 6 * * 1-5), empty for none', s.schedule || '');
        if (v !== null) sourceAction(s.name, 'edit', { schedule: v.trim() ? v.trim() : null });
      }));
      actions.appendChild(button('Delete', 'plain', () => {
        if (window.confirm(`Delete source ${s.name} and its ${s.documents} documents?`)) sourceAction(s.name, 'rm');
      }));
    }
    body.appendChild(tr);
  }
}

async function refreshJobs() {
  const data = await api('GET', '/api/v1/jobs?limit=20');
  const c = data.counts;
  $('job-counts').textContent = `queued ${c.queued} · running ${c.running} · failed ${c.failed} · dead ${c.dead} · succeeded ${c.succeeded}`;
  const body = $('jobs');
  body.replaceChildren();
  for (const j of data.jobs) {
    const tr = document.createElement('tr');
    cell(tr, j.id); cell(tr, j.kind); cell(tr, j.state);
    cell(tr, j.attempts + '/' + j.max_attempts); cell(tr, j.updated_at);
    cell(tr, j.last_error || '');
    const actions = cell(tr, '');
    if (j.state === 'dead' || j.state === 'failed') {
      actions.appendChild(button('Retry', 'plain', async () => {
        try { await api('POST', '/api/v1/jobs/' + j.id + '/retry'); await refreshJobs(); }
        catch (e) { $('jobs-error').textContent = e.message; }
      }));
    }
    body.appendChild(tr);
  }
}

async function refreshAlerts() {
  const data = await api('GET', '/api/v1/alerts?state=firing&limit=100');
  const body = $('alerts');
  body.replaceChildren();
  const pill = $('alerts-count');
  pill.textContent = data.alerts.length + ' firing';
  pill.className = 'pill ' + (data.alerts.length ? 'bad' : 'ok');
  for (const a of data.alerts) {
    const tr = document.createElement('tr');
    cell(tr, a.name);
    cell(tr, a.severity || '');
    const ann = a.annotations || {};
    const sum = cell(tr, ann.summary || ann.description || '');
    if (ann.runbook_url) sum.title = 'runbook: ' + ann.runbook_url;
    const l = a.labels || {};
    cell(tr, [l.project, l.service, l.source, l.instance].filter(Boolean).join(' / '));
    cell(tr, a.starts_at || '');
    body.appendChild(tr);
  }
  $('alerts-error').textContent = '';
}

async function runSearch(q) {
  const data = await api('GET', '/api/v1/knowledge/search?q=' + encodeURIComponent(q));
  $('search-info').textContent = data.results.length + ' passages in ' + data.took_ms.toFixed(1) + ' ms (' + data.mode + ')';
  const list = $('search-results');
  list.replaceChildren();
  for (const r of data.results) {
    const li = document.createElement('li');
    const title = document.createElement('strong');
    title.textContent = r.heading || r.title;
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.textContent = r.source + ' · priority ' + r.priority + ' · score ' + r.score.toFixed(2) + (r.url ? ' · ' + r.url : '');
    const snip = document.createElement('p');
    snip.className = 'snippet';
    // The server HTML-escapes snippets and adds only <mark> tags.
    snip.innerHTML = r.snippet || '';
    li.append(title, meta, snip);
    list.appendChild(li);
  }
}

// ---- Projects: services, live health and resources ----

const STATUS_CLASS = { healthy: 'ok', running: 'ok', starting: 'warn', restarting: 'warn',
  created: 'warn', unhealthy: 'bad', failed: 'bad', exited: 'bad' };
const projViews = new Map();   // project name -> view (DOM kept across refreshes)
let projBusy = false;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = String(text);
  return e;
}

function humanBytes(n) {
  if (n == null || !isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + units[i];
}

const enc = encodeURIComponent;

// A bar: a native <meter> (accessible, coloured by low/high) and its figures.
function makeBar(label) {
  const wrap = el('div', 'bar');
  const m = document.createElement('meter');
  m.min = 0; m.optimum = 0;
  m.setAttribute('aria-label', label);
  const t = el('span', 'bar-text');
  wrap.append(m, t);
  return { wrap, m, t };
}

function setBar(bar, used, max, text) {
  bar.t.textContent = text;
  if (used == null) { bar.m.hidden = true; return; }
  bar.m.hidden = !(max > 0);
  if (max > 0) {
    bar.m.max = max; bar.m.low = max * 0.7; bar.m.high = max * 0.9;
    bar.m.value = Math.min(used, max);
    bar.m.title = text;
  }
}

function projectView(p) {
  let v = projViews.get(p.name);
  if (v) return v;
  const root = el('section', 'project');
  root.dataset.project = p.name;
  const head = el('div', 'project-head');
  const h = el('h3', null, p.name);
  const state = el('span', 'pill state');
  const ready = el('span', 'pill ready');
  const meta = el('span', 'muted');
  const up = button('Up', 'plain', () => projectAction(p.name, 'up'));
  const down = button('Down', 'danger', () => projectAction(p.name, 'down'));
  up.setAttribute('aria-label', 'Start project ' + p.name);
  down.setAttribute('aria-label', 'Stop project ' + p.name);
  head.append(h, state, ready, meta, up, down);
  const table = el('table', 'services');
  const thead = el('thead');
  const hr = el('tr');
  for (const c of ['Service', 'Status', 'Failing', 'Probe', 'CPU', 'Memory', 'PIDs', ''])
    hr.appendChild(el('th', null, c));
  thead.appendChild(hr);
  const tbody = el('tbody');
  table.append(thead, tbody);
  // Two lines under the table: `err` says what the last refresh could not
  // read and is rewritten by every refresh; `act` says how the last action
  // went (a refusal, an error) and stays until it is dismissed or replaced.
  const err = el('p', 'error');
  err.setAttribute('role', 'status');
  const act = el('p', 'error action');
  act.setAttribute('role', 'alert');
  act.hidden = true;
  const actText = el('span');
  const dismiss = button('Dismiss', 'plain', () => { act.hidden = true; actText.textContent = ''; });
  dismiss.setAttribute('aria-label', 'Dismiss this message');
  act.append(actText, ' ', dismiss);
  root.append(head, table, act, err);
  $('projects').appendChild(root);
  v = { root, state, ready, meta, up, down, tbody, err, act, actText, rows: new Map() };
  projViews.set(p.name, v);
  return v;
}

function serviceRow(v, project, name) {
  let r = v.rows.get(name);
  if (r) return r;
  const tr = el('tr');
  tr.dataset.service = name;
  const nameTd = el('td');
  nameTd.append(el('strong', null, name));
  const enforced = el('span', 'tag', 'limits not enforced');
  enforced.hidden = true;
  enforced.title = 'The driver could not apply this service\'s resource limits here';
  nameTd.append(' ', enforced);
  const status = el('span', 'pill', '…');
  const statusTd = el('td'); statusTd.appendChild(status);
  const streak = el('td', 'num');
  const probe = el('td', 'probe');
  const cpu = makeBar('CPU of ' + name), mem = makeBar('Memory of ' + name), pids = makeBar('Processes of ' + name);
  const cpuTd = el('td'); cpuTd.appendChild(cpu.wrap);
  const memTd = el('td'); memTd.appendChild(mem.wrap);
  const pidsTd = el('td'); pidsTd.appendChild(pids.wrap);
  const actions = el('td', 'actions');
  const logs = button('Logs', 'plain', () => openLogs(project, name));
  logs.setAttribute('aria-label', 'Show the log of ' + name);
  const restart = button('Restart', 'danger', () => restartService(project, name, restart));
  restart.setAttribute('aria-label', 'Restart ' + name);
  actions.append(logs, restart);
  tr.append(nameTd, statusTd, streak, probe, cpuTd, memTd, pidsTd, actions);
  v.tbody.appendChild(tr);
  r = { tr, status, streak, probe, cpu, mem, pids, enforced };
  v.rows.set(name, r);
  return r;
}

function updateHealth(v, project, h) {
  v.ready.textContent = h.ready ? 'ready' : 'not ready';
  v.ready.className = 'pill ready ' + (h.ready ? 'ok' : 'warn');
  const seen = new Set();
  for (const [name, s] of Object.entries(h.services || {})) {
    seen.add(name);
    const r = serviceRow(v, project, name);
    r.status.textContent = s.status;
    r.status.className = 'pill ' + (STATUS_CLASS[s.status] || '');
    r.streak.textContent = s.failing_streak ? String(s.failing_streak) : '0';
    r.streak.className = 'num' + (s.failing_streak ? ' error' : '');
    r.probe.textContent = s.message || (s.probe && s.probe !== 'none' ? '' : 'no probe');
    const outs = (s.last_outputs || []).map((o) =>
      (o.at || '?') + ' ' + (o.ok ? 'ok' : 'FAIL') + ' (' + o.code + '): ' + o.output);
    r.probe.title = (s.probe ? 'probe: ' + s.probe + '\n' : '') +
      (s.checked_at ? 'checked ' + s.checked_at + '\n' : '') + outs.join('\n');
  }
  for (const [name, r] of v.rows) if (!seen.has(name)) { r.tr.remove(); v.rows.delete(name); }
}

function updateResources(v, res) {
  for (const [name, s] of Object.entries(res.services || {})) {
    const r = v.rows.get(name);
    if (!r) continue;
    const u = s.usage, l = s.limits || {};
    r.enforced.hidden = !u || s.enforced !== false;
    if (!u) {
      setBar(r.cpu, null, 0, '—'); setBar(r.mem, null, 0, '—'); setBar(r.pids, null, 0, '—');
      continue;
    }
    const cpuMax = l.cpus > 0 ? l.cpus * 100 : 100;
    setBar(r.cpu, u.cpu_percent, cpuMax, u.cpu_percent.toFixed(1) + '%' +
           (l.cpus > 0 ? ' of ' + l.cpus + ' CPU' : ''));
    const memMax = u.memory_limit > 0 ? u.memory_limit : (l.memory > 0 ? l.memory : 0);
    setBar(r.mem, u.memory_bytes, memMax, humanBytes(u.memory_bytes) +
           (memMax > 0 ? ' / ' + humanBytes(memMax) : ''));
    const pidMax = u.pids_limit > 0 ? u.pids_limit : (l.pids > 0 ? l.pids : 0);
    setBar(r.pids, u.pids, pidMax, u.pids + (pidMax > 0 ? ' / ' + pidMax : ''));
  }
}

async function refreshProject(v, p) {
  v.state.textContent = p.state;
  v.state.className = 'pill state ' + (p.state === 'up' ? 'ok' : '');
  v.meta.textContent = p.driver + ' · ' + p.healthy + '/' + p.services + ' healthy · ' + p.compose_path;
  v.up.hidden = p.state === 'up';
  v.down.hidden = p.state !== 'up';
  const problems = [];
  try { updateHealth(v, p.name, await api('GET', '/api/v1/projects/' + enc(p.name) + '/health')); }
  catch (e) { if (e.status === 401) throw e; problems.push('health: ' + e.message); }
  try { updateResources(v, await api('GET', '/api/v1/projects/' + enc(p.name) + '/resources')); }
  catch (e) { if (e.status === 401) throw e; problems.push('resources: ' + e.message); }
  v.err.textContent = problems.join(' · ');
}

async function refreshProjects() {
  if (projBusy) return;
  projBusy = true;
  try {
    const data = await api('GET', '/api/v1/projects');
    if (!token) return;   // logged out meanwhile
    const names = new Set(data.projects.map((p) => p.name));
    for (const [name, v] of projViews) if (!names.has(name)) { v.root.remove(); projViews.delete(name); }
    $('projects-empty').hidden = data.projects.length > 0;
    await Promise.all(data.projects.map((p) => refreshProject(projectView(p), p)));
    $('projects-error').textContent = '';
    updateLogTargets();
  } catch (e) {
    if (e.status === 401) logout('Your token is not valid any more.');
    else $('projects-error').textContent = 'Projects: ' + e.message;
  } finally {
    projBusy = false;
  }
}

async function projectAction(name, action) {
  const v = projViews.get(name);
  if (action === 'down' && !confirm('Stop every service of project ' + name + '?')) return;
  if (v) actionSay(v, (action === 'up' ? 'Starting ' : 'Stopping ') + name + '…', false);
  try {
    await api('POST', '/api/v1/projects/' + enc(name) + '/' + action);
    if (v) actionSay(v, '', false);
  } catch (e) {
    if (v) actionSay(v, action + ': ' + e.message, true);
  } finally {
    refreshProjects();
  }
}

// Shows how an action goes in the project's action line; a failure stays
// (with its Dismiss button) until dismissed or replaced by the next action.
function actionSay(v, msg, failed) {
  v.actText.textContent = msg;
  v.act.classList.toggle('pending', !failed);
  v.act.hidden = msg === '';
}

async function restartService(project, svc, btn) {
  if (!confirm('Restart ' + svc + ' of project ' + project + '?')) return;
  const v = projViews.get(project);
  btn.disabled = true;
  if (v) actionSay(v, 'Restarting ' + svc + '…', false);
  try {
    await api('POST', '/api/v1/projects/' + enc(project) + '/services/' + enc(svc) + '/restart');
    if (v) actionSay(v, '', false);
  } catch (e) {
    if (v) actionSay(v, 'restart ' + svc + ': ' + (e.status === 403 ? 'restarting needs an admin token' : e.message), true);
  } finally {
    btn.disabled = false;
    refreshProjects();
  }
}

// ---- Log viewer: fetch() streaming (EventSource cannot send Authorization) ----

const LOG_MAX_LINES = 2000;
let logCtl = null;

function updateLogTargets() {
  const sel = $('logs-target');
  const want = [];
  for (const [p, v] of projViews) for (const s of v.rows.keys()) want.push(p + '/' + s);
  const have = [...sel.options].map((o) => o.value);
  if (want.join('\n') === have.join('\n')) return;
  const cur = sel.value;
  sel.replaceChildren();
  for (const w of want) {
    const o = document.createElement('option');
    o.value = w; o.textContent = w;
    sel.appendChild(o);
  }
  if (want.includes(cur)) sel.value = cur;
}

function appendLogLines(rows) {
  const box = $('logs');
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 24;
  const frag = document.createDocumentFragment();
  for (const r of rows) {
    const d = el('div', r.stream === 'stderr' ? 'stderr' : 'stdout');
    if (typeof r.ts === 'string') { const t = el('time', null, r.ts.slice(11, 23)); t.dateTime = r.ts; d.append(t, ' '); }
    d.append(typeof r.line === 'string' ? r.line : JSON.stringify(r));
    frag.appendChild(d);
  }
  box.appendChild(frag);
  let extra = box.childElementCount - LOG_MAX_LINES;
  while (extra-- > 0) box.firstElementChild.remove();
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function stopLogs(msg) {
  if (logCtl) { logCtl.abort(); logCtl = null; }
  $('logs-stop').disabled = true;
  if (msg != null) $('logs-status').textContent = msg;
}

// Reads a streamed body line by line; onLines gets arrays of complete lines.
async function readLines(res, onLines) {
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    rest += dec.decode(value, { stream: true });
    const parts = rest.split('\n');
    rest = parts.pop();
    if (parts.length) onLines(parts);
  }
  rest += dec.decode();
  if (rest) onLines([rest]);
}

async function streamError(res) {
  const data = await res.json().catch(() => null);
  const e = (data && data.error) || {};
  const err = new Error((e.message || res.statusText || ('HTTP ' + res.status)) + (e.hint ? ' (' + e.hint + ')' : ''));
  err.status = res.status;
  return err;
}

async function openLogs(project, svc) {
  const target = project + '/' + svc;
  updateLogTargets();
  $('logs-target').value = target;
  await showLogs();
  $('logs').scrollIntoView({ block: 'nearest' });
}

async function showLogs() {
  const target = $('logs-target').value;
  if (!target) { $('logs-status').textContent = 'Choose a service first.'; return; }
  stopLogs();
  const cut = target.indexOf('/');
  const project = target.slice(0, cut), svc = target.slice(cut + 1);
  const follow = $('logs-follow').checked;
  const ctl = new AbortController();
  logCtl = ctl;
  $('logs').replaceChildren();
  $('logs-stop').disabled = !follow;
  $('logs-status').textContent = 'Loading ' + target + '…';
  const url = '/api/v1/projects/' + enc(project) + '/logs/' + enc(svc) +
    '?tail=200&format=json&timestamps=1' + (follow ? '&follow=1' : '');
  try {
    const res = await fetch(url, { headers: { Authorization: 'Bearer ' + token }, signal: ctl.signal });
    if (!res.ok) throw await streamError(res);
    $('logs-status').textContent = follow ? 'Following ' + target + '…' : target + ': last 200 lines';
    await readLines(res, (lines) => {
      const rows = [];
      for (const ln of lines) {
        if (!ln) continue;
        let r = null;
        try { r = JSON.parse(ln); } catch (e) { /* not JSON: shown as written */ }
        rows.push(r && typeof r === 'object' ? r : { stream: 'stdout', line: ln });
      }
      if (rows.length) appendLogLines(rows);
    });
    if (logCtl === ctl) stopLogs(follow ? target + ': the stream ended' : target + ': last 200 lines');
  } catch (e) {
    if (ctl.signal.aborted) return;
    if (logCtl === ctl) stopLogs();
    if (e.status === 401) logout('Your token is not valid any more.');
    else $('logs-status').textContent = target + ': ' + e.message;
  }
}

$('logs-form').addEventListener('submit', (ev) => { ev.preventDefault(); showLogs(); });
$('logs-stop').addEventListener('click', () => stopLogs('Stopped.'));
$('logs-clear').addEventListener('click', () => $('logs').replaceChildren());
$('logs-follow').addEventListener('change', () => {
  if (!$('logs-follow').checked && logCtl) stopLogs('Stopped following.');
});

// ---- Events: the SSE stream read with fetch(), reconnecting with Last-Event-ID ----

const EVENTS_MAX_ROWS = 200;
let evCtl = null;
let evLastId = 0;
let evRetry = null;

function eventRow(ev) {
  const tr = document.createElement('tr');
  cell(tr, ev.id); cell(tr, ev.ts); cell(tr, ev.kind); cell(tr, ev.project || '');
  cell(tr, ev.service || ''); cell(tr, ev.message);
  if (/failed|unhealthy|oom|exited/.test(ev.kind || '')) tr.className = 'bad';
  return tr;
}

function addEvent(ev) {
  if (typeof ev.id !== 'number' || ev.id <= evLastId) return;
  evLastId = ev.id;
  const body = $('events');
  body.insertBefore(eventRow(ev), body.firstChild);
  while (body.childElementCount > EVENTS_MAX_ROWS) body.lastElementChild.remove();
  if (/^service\.|^project\./.test(ev.kind || '')) refreshProjectsSoon();
  if (/^alert\./.test(ev.kind || '')) refreshAlerts().catch(() => {});
}

let projSoon = null;
function refreshProjectsSoon() {
  if (projSoon) return;
  projSoon = setTimeout(() => { projSoon = null; refreshProjects(); }, 300);
}

function setLive(on, text) {
  const p = $('events-live');
  p.textContent = text;
  p.className = 'pill ' + (on ? 'ok' : 'warn');
}

async function loadEvents() {
  const data = await api('GET', '/api/v1/events?limit=1000');
  const body = $('events');
  body.replaceChildren();
  const last = data.events.slice(-EVENTS_MAX_ROWS);
  for (const ev of last.reverse()) body.appendChild(eventRow(ev));
  evLastId = Math.max(evLastId, data.last_id || 0, ...data.events.map((e) => e.id));
}

async function streamEvents(delay, loaded) {
  if (evRetry) { clearTimeout(evRetry); evRetry = null; }
  if (!token) return;
  const ctl = new AbortController();
  evCtl = ctl;
  try {
    if (!loaded) { await loadEvents(); loaded = true; }
    // Replays what happened since the last event seen (or since the page loaded).
    const headers = { Authorization: 'Bearer ' + token, Accept: 'text/event-stream',
                      'Last-Event-ID': String(evLastId) };
    const res = await fetch('/api/v1/events', { headers, signal: ctl.signal });
    if (!res.ok) throw await streamError(res);
    setLive(true, 'live');
    $('events-error').textContent = '';
    delay = 1000;
    let data = [];
    await readLines(res, (lines) => {
      for (let ln of lines) {
        if (ln.endsWith('\r')) ln = ln.slice(0, -1);
        if (ln === '') {
          if (data.length) {
            try { addEvent(JSON.parse(data.join('\n'))); }
            catch (e) { $('events-error').textContent = 'An event could not be read: ' + e.message; }
          }
          data = [];
        } else if (ln.startsWith('data:')) {
          data.push(ln.slice(ln[5] === ' ' ? 6 : 5));
        }
        // id: and event: repeat what data carries; ':' lines are keep-alives
      }
    });
    if (ctl.signal.aborted) return;
    throw new Error('the event stream ended');
  } catch (e) {
    if (ctl.signal.aborted || evCtl !== ctl) return;
    evCtl = null;
    if (e.status === 401) { logout('Your token is not valid any more.'); return; }
    const wait = Math.min(delay || 1000, 15000);
    setLive(false, 'reconnecting');
    $('events-error').textContent = 'Events: ' + e.message + '; reconnecting in ' + Math.round(wait / 1000) + ' s';
    evRetry = setTimeout(() => streamEvents(wait * 2, loaded), wait);
  }
}

function stopEvents() {
  if (evRetry) { clearTimeout(evRetry); evRetry = null; }
  if (evCtl) { const c = evCtl; evCtl = null; c.abort(); }
  setLive(false, 'offline');
}

setInterval(() => {
  if (token && !$('app').hidden && document.visibilityState === 'visible') refreshProjects();
}, 2000);
document.addEventListener('visibilitychange', () => {
  if (token && document.visibilityState === 'visible') refreshProjects();
});

async function refreshAll() {
  await refreshReady();
  try {
    await Promise.all([refreshStatus(), refreshTokens(), refreshSources(), refreshJobs(),
                       refreshAlerts().catch((e) => {
                         if (e.status === 401) throw e;
                         $('alerts-error').textContent = e.message;
                       })]);
  } catch (e) {
    if (e.status === 401) { logout('Your token is not valid any more.'); }
  }
}

// After login: the periodic views, the projects, and the live event stream.
function startLive() {
  refreshAll();
  refreshProjects();
  evLastId = 0;
  streamEvents(1000);
}

function show(loggedIn) {
  $('login').hidden = loggedIn;
  $('app').hidden = !loggedIn;
  $('logout').hidden = !loggedIn;
}

function logout(msg) {
  token = '';
  stopEvents();
  stopLogs('');
  // Nothing seen with the old token stays on the page.
  projViews.clear();
  $('projects').replaceChildren();
  $('logs').replaceChildren();
  $('logs-target').replaceChildren();
  $('events').replaceChildren();
  sessionStorage.removeItem('cc_token');
  $('login-error').textContent = msg || '';
  show(false);
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  token = $('token').value.trim();
  try {
    await api('GET', '/api/v1/status');
    sessionStorage.setItem('cc_token', token);
    $('token').value = '';
    $('login-error').textContent = '';
    show(true);
    startLive();
  } catch (e) {
    $('login-error').textContent = e.status === 401 ? 'That token is not valid.' : e.message;
  }
});

$('token-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const t = await api('POST', '/api/v1/tokens', { name: $('token-name').value, scope: $('token-scope').value });
    $('new-token').textContent = 'New token (shown once): ' + t.token;
    $('token-name').value = '';
    await refreshTokens();
  } catch (e) {
    $('tokens-error').textContent = e.message;
  }
});

$('search-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try { await runSearch($('search-q').value); }
  catch (e) { $('search-info').textContent = e.message; }
});

$('source-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const type = $('source-type').value;
  const body = { name: $('source-name').value, type, priority: Number($('source-priority').value) };
  if (type === 'file') body.path = $('source-path').value; else body.url = $('source-path').value;
  if ($('source-schedule').value) body.schedule = $('source-schedule').value;
  if ($('source-tz').value) body.tz = $('source-tz').value;
  try {
    await api('POST', '/api/v1/sources', body);
    $('source-name').value = ''; $('source-path').value = ''; $('source-schedule').value = ''; $('source-tz').value = '';
    $('sources-error').textContent = '';
    await refreshSources();
  } catch (e) {
    $('sources-error').textContent = e.message;
  }
});

$('source-type').addEventListener('change', () => {
  const file = $('source-type').value === 'file';
  $('source-path-label').textContent = file ? 'Folder' : 'URL';
  $('source-path').placeholder = file ? '/absolute/folder' : ($('source-type').value === 'rss'
    ? 'https://example.org/feed.xml' : 'https://example.org/docs/');
});

$('logout').addEventListener('click', () => logout());

refreshReady();
setInterval(() => { if (token) refreshAll(); else refreshReady(); }, 5000);
if (token) { show(true); startLive(); } else { show(false); }
