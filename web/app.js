// The Hub: a thin client of the HTTP API. The token lives in sessionStorage
// only, so closing the tab logs out.
'use strict';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('cc_token') || '';

async function api(method, path, body) {
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

async function refreshEvents() {
  const data = await api('GET', '/api/v1/events?limit=1000');
  const body = $('events');
  body.replaceChildren();
  for (const ev of data.events.slice(-50).reverse()) {
    const tr = document.createElement('tr');
    cell(tr, ev.id); cell(tr, ev.ts); cell(tr, ev.kind); cell(tr, ev.message);
    body.appendChild(tr);
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
    cell(tr, s.schedule ? s.schedule + (s.tz ? ' ' + s.tz : '') : '—');
    cell(tr, s.enabled ? 'enabled' : 'paused');
    cell(tr, s.last_run || '—');
    const st = cell(tr, s.last_status || '—');
    if (s.last_error) { st.title = s.last_error; st.className = 'error'; }
    cell(tr, s.documents);
    const actions = cell(tr, '');
    if (s.type !== 'manual') actions.appendChild(button('Run now', 'plain', () => sourceAction(s.name, 'run')));
    actions.appendChild(button(s.enabled ? 'Pause' : 'Resume', 'plain',
      () => sourceAction(s.name, s.enabled ? 'pause' : 'resume')));
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

async function refreshAll() {
  await refreshReady();
  try {
    await Promise.all([refreshStatus(), refreshTokens(), refreshEvents(), refreshSources(), refreshJobs()]);
  } catch (e) {
    if (e.status === 401) { logout('Your token is not valid any more.'); }
  }
}

function show(loggedIn) {
  $('login').hidden = loggedIn;
  $('app').hidden = !loggedIn;
  $('logout').hidden = !loggedIn;
}

function logout(msg) {
  token = '';
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
    refreshAll();
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
  const body = { name: $('source-name').value, type: 'file', path: $('source-path').value,
                 priority: Number($('source-priority').value) };
  if ($('source-schedule').value) body.schedule = $('source-schedule').value;
  try {
    await api('POST', '/api/v1/sources', body);
    $('source-name').value = ''; $('source-path').value = ''; $('source-schedule').value = '';
    $('sources-error').textContent = '';
    await refreshSources();
  } catch (e) {
    $('sources-error').textContent = e.message;
  }
});

$('logout').addEventListener('click', () => logout());

refreshReady();
setInterval(() => { if (token) refreshAll(); else refreshReady(); }, 5000);
if (token) { show(true); refreshAll(); } else { show(false); }
