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

async function refreshAll() {
  await refreshReady();
  try {
    await Promise.all([refreshStatus(), refreshTokens(), refreshEvents()]);
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

$('logout').addEventListener('click', () => logout());

refreshReady();
setInterval(() => { if (token) refreshAll(); else refreshReady(); }, 5000);
if (token) { show(true); refreshAll(); } else { show(false); }
