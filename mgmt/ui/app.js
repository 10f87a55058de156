'use strict';
// Warren's management UI: a single page over the RabbitMQ-compatible
// HTTP API at api/. Routes live in the location hash (#/queues/%2F/name);
// each page builds its static parts (forms) once and refreshes its data
// parts on the refresh timer. Credentials typed at the login are kept in
// sessionStorage and sent as basic auth, as RabbitMQ's UI does.

const { lineChart, sparkline } = window.WarrenChart;

const S = {
  auth: null,       // "Basic ..." header value
  user: null,       // /api/whoami
  tags: [],
  vhost: '',        // '' = all vhosts
  vhosts: [],
  refreshMs: 5000,
  timer: null,
  page: null,       // current page: {refresh()}
  route: '',
  overview: null,   // last /api/overview
  hist: [],         // overview samples {t, ready, unacked, total, rates...}
  qhist: new Map(), // "vhost\0name" -> [{t, messages, publish, deliver}]
  counters: new Map(), // for rates the API does not give: key -> {t, v}
};
const HIST_MAX = 180;   // samples kept for the overview charts
const QHIST_MAX = 60;   // per-queue samples kept for sparklines and charts
const QHIST_KEYS = 5000;

// ---------------------------------------------------------------- DOM

// el builds an element: attrs are properties (class, text, on*, dataset
// entries with data-*, anything else as attribute); children are
// elements, strings or null.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const k in attrs) {
      const v = attrs[k];
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k.startsWith('data-')) e.dataset[k.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = v;
      else if (k in e && typeof v !== 'string') e[k] = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return e;
}
const $ = id => document.getElementById(id);
function replace(node, ...children) {
  node.textContent = '';
  for (const c of children.flat()) if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
}

// section is a collapsible panel; its open state survives refreshes.
function section(title, id, ...body) {
  const key = 'warren.section.' + id;
  const saved = localStorage.getItem(key);
  const closed = saved ? saved === 'closed' : CLOSED_SECTIONS.has(id);
  const s = el('section', { class: 'section' + (closed ? ' closed' : ''), id: 'sec-' + id });
  const head = el('div', { class: 'section-head', onclick: () => {
    s.classList.toggle('closed');
    localStorage.setItem(key, s.classList.contains('closed') ? 'closed' : 'open');
  } }, el('h2', { text: title }));
  s.appendChild(head);
  s.appendChild(el('div', { class: 'section-body' }, ...body));
  return s;
}

// CLOSED_SECTIONS start closed until opened, as RabbitMQ's UI folds its
// "Add a new ..." forms.
const CLOSED_SECTIONS = new Set(['q-add', 'ex-add', 'vh-add', 'conn-props']);

// ---------------------------------------------------------------- format

function fmtNum(n) {
  if (n === undefined || n === null || n === '') return '—';
  if (typeof n !== 'number') return String(n);
  return n.toLocaleString('en-US', { maximumFractionDigits: 0 });
}
function fmtRate(r) {
  if (r === undefined || r === null) return '—';
  if (r === 0) return '0.0/s';
  if (r < 10) return r.toFixed(1) + '/s';
  return Math.round(r).toLocaleString('en-US') + '/s';
}
function fmtBytes(b) {
  if (b === undefined || b === null) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return (i ? b.toFixed(b < 10 ? 1 : 0) : Math.round(b)) + ' ' + u[i];
}
function fmtDuration(ms) {
  if (ms === undefined || ms === null) return '—';
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return d + 'd ' + h + 'h';
  if (h) return h + 'h ' + m + 'm';
  if (m) return m + 'm ' + s + 's';
  return s + 's';
}
function fmtTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toISOString().replace('T', ' ').slice(0, 19);
}
function fmtJSON(v) {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object' && Object.keys(v).length === 0) return '';
  return JSON.stringify(v);
}
function rateOf(stats, key) {
  const d = stats && stats[key + '_details'];
  return d && typeof d.rate === 'number' ? d.rate : undefined;
}
// derivedRate is the growth per second of a counter between this poll
// and the last one, for objects whose API rows carry no *_details.
function derivedRate(key, v) {
  if (typeof v !== 'number') return undefined;
  const now = Date.now(), prev = S.counters.get(key);
  S.counters.set(key, { t: now, v: v });
  if (S.counters.size > 20000) S.counters.delete(S.counters.keys().next().value);
  if (!prev || now - prev.t < 200 || v < prev.v) return prev && prev.r;
  const r = (v - prev.v) * 1000 / (now - prev.t);
  S.counters.get(key).r = r;
  return r;
}
const enc = encodeURIComponent;
function vhostLabel(v) { return v === '/' ? '/' : v; }
function isAdmin() { return S.tags.includes('administrator'); }
function isMonitor() { return isAdmin() || S.tags.includes('monitoring'); }
function isPolicymaker() { return isAdmin() || S.tags.includes('policymaker'); }

// ---------------------------------------------------------------- API

class APIError extends Error {
  constructor(status, reason) { super(reason); this.status = status; }
}

// api calls the HTTP API. credentials 'omit' keeps the browser's own
// basic-auth prompt away: the header carries the credentials.
async function api(method, path, body, extraHeaders) {
  const headers = { Authorization: S.auth, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  Object.assign(headers, extraHeaders || {});
  let r;
  try {
    r = await fetch('api' + path, {
      method, headers, credentials: 'omit', cache: 'no-store',
      body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
    });
  } catch (e) {
    throw new APIError(0, 'the broker is not answering (' + e.message + ')');
  }
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = text; }
  }
  if (r.status === 401 && S.user) {
    logout('Your session is no longer authorised: ' + ((data && data.reason) || 'log in again') + '.');
    throw new APIError(401, 'not authorised');
  }
  if (!r.ok) {
    const reason = data && typeof data === 'object' ? (data.reason || data.error) : (text || r.statusText);
    throw new APIError(r.status, typeof reason === 'string' ? reason : JSON.stringify(reason));
  }
  return data;
}
const GET = path => api('GET', path);

// vhostPath is "" for all vhosts, else "/<vhost>".
function vhostPath() { return S.vhost ? '/' + enc(S.vhost) : ''; }

function showBanner(msg) {
  const b = $('banner');
  if (!msg) { b.hidden = true; return; }
  b.textContent = msg;
  b.hidden = false;
}

// ---------------------------------------------------------------- login

async function login(user, pass) {
  S.auth = 'Basic ' + btoa(unescape(enc(user + ':' + pass)));
  let who;
  try {
    who = await GET('/whoami');
  } catch (e) {
    S.auth = null;
    throw e.status === 401 ? new APIError(401, 'Login failed: wrong username or password, or a user without a management tag' +
      (user === 'guest' ? ' (guest may only log in from localhost)' : '') + '.') : e;
  }
  S.user = who;
  S.tags = Array.isArray(who.tags) ? who.tags : String(who.tags || '').split(',').filter(Boolean);
  sessionStorage.setItem('warren.auth', S.auth);
}

function logout(msg) {
  sessionStorage.removeItem('warren.auth');
  sessionStorage.removeItem('warren.hist');
  S.hist = [];
  S.auth = null; S.user = null; S.tags = [];
  stopTimer();
  $('shell').hidden = true;
  $('login').hidden = false;
  const err = $('login-error');
  err.textContent = msg || '';
  err.hidden = !msg;
  $('login-pass').value = '';
}

async function start() {
  $('login-form').addEventListener('submit', async ev => {
    ev.preventDefault();
    const err = $('login-error');
    err.hidden = true;
    $('login-submit').disabled = true;
    try {
      await login($('login-user').value, $('login-pass').value);
      await enter();
    } catch (e) {
      err.textContent = e.message;
      err.hidden = false;
    } finally {
      $('login-submit').disabled = false;
    }
  });
  $('logout').addEventListener('click', () => logout());
  $('refresh-select').addEventListener('change', ev => {
    S.refreshMs = +ev.target.value;
    localStorage.setItem('warren.refresh', ev.target.value);
    startTimer();
  });
  $('vhost-select').addEventListener('change', ev => {
    S.vhost = ev.target.value;
    sessionStorage.setItem('warren.vhost', S.vhost);
    // Another vhost's list starts at its first page (the page may not
    // exist there).
    for (let i = sessionStorage.length - 1; i >= 0; i--) {
      const k = sessionStorage.key(i);
      if (!k.startsWith('warren.list.')) continue;
      try {
        const st = JSON.parse(sessionStorage.getItem(k));
        st.page = 1;
        sessionStorage.setItem(k, JSON.stringify(st));
      } catch (e) { sessionStorage.removeItem(k); }
    }
    render();
  });
  window.addEventListener('hashchange', () => { if (S.user) render(); });
  const saved = localStorage.getItem('warren.refresh');
  if (saved !== null && $('refresh-select').querySelector('option[value="' + saved + '"]')) {
    $('refresh-select').value = saved;
    S.refreshMs = +saved;
  }
  const auth = sessionStorage.getItem('warren.auth');
  if (auth) {
    S.auth = auth;
    try {
      const who = await GET('/whoami');
      S.user = who;
      S.tags = Array.isArray(who.tags) ? who.tags : String(who.tags || '').split(',').filter(Boolean);
      await enter();
      return;
    } catch (e) {
      S.auth = null;
    }
  }
  logout();
}

async function enter() {
  $('login').hidden = true;
  $('shell').hidden = false;
  $('who-user').textContent = S.user.name;
  S.vhost = sessionStorage.getItem('warren.vhost') || '';
  try {
    const h = JSON.parse(sessionStorage.getItem('warren.hist') || '[]');
    if (Array.isArray(h) && !S.hist.length) S.hist = h.filter(x => x && Date.now() - x.t < 3600e3);
  } catch (e) { S.hist = []; }
  await loadVHosts();
  buildTabs();
  await pollOverview();
  render();
  startTimer();
}

async function loadVHosts() {
  try {
    S.vhosts = (await GET('/vhosts?columns=name')).map(v => v.name);
  } catch (e) {
    S.vhosts = [];
  }
  const sel = $('vhost-select');
  replace(sel, el('option', { value: '', text: 'All vhosts' }), S.vhosts.map(v => el('option', { value: v, text: 'vhost ' + vhostLabel(v) })));
  if (S.vhost && !S.vhosts.includes(S.vhost)) S.vhost = '';
  sel.value = S.vhost;
}

// ---------------------------------------------------------------- tabs, routing, refresh

// TABS are the pages of the header; those of the admin group sit under
// one Admin tab with its own row of links, as in RabbitMQ's UI.
const TABS = [
  ['', 'Overview', () => true],
  ['connections', 'Connections', () => true],
  ['channels', 'Channels', () => true],
  ['exchanges', 'Exchanges', () => true],
  ['queues', 'Queues', () => true],
  ['bindings', 'Bindings', () => true],
  ['users', 'Users', isAdmin, 'admin'],
  ['vhosts', 'Virtual hosts', isAdmin, 'admin'],
  ['permissions', 'Permissions', isAdmin, 'admin'],
  ['policies', 'Policies', isPolicymaker, 'admin'],
  ['limits', 'Limits', isAdmin, 'admin'],
  ['definitions', 'Definitions', isAdmin, 'admin'],
];

function buildTabs() {
  const shown = TABS.filter(t => t[2]());
  const admin = shown.filter(t => t[3] === 'admin');
  replace($('tabs'), shown.filter(t => !t[3]).map(t => el('a', { href: '#/' + t[0], 'data-tab': t[0], text: t[1] })),
    admin.length ? el('a', { href: '#/' + admin[0][0], 'data-tab': 'admin', text: 'Admin' }) : null);
  replace($('subtabs'), admin.map(t => el('a', { href: '#/' + t[0], 'data-tab': t[0], text: t[1] })));
}

function parseRoute() {
  const h = location.hash.replace(/^#\/?/, '');
  const parts = h === '' ? [] : h.split('/').map(p => { try { return decodeURIComponent(p); } catch (e) { return p; } });
  return parts;
}

const PAGES = {};

function render() {
  const parts = parseRoute();
  const name = parts[0] || '';
  const tab = TABS.find(t => t[0] === name);
  const group = tab && tab[3];
  for (const a of $('tabs').children) a.classList.toggle('active', a.dataset.tab === (group || name));
  for (const a of $('subtabs').children) a.classList.toggle('active', a.dataset.tab === name);
  $('subtabs').hidden = group !== 'admin';
  const main = $('main');
  replace(main);
  showBanner('');
  const page = PAGES[name] || notFoundPage;
  S.route = location.hash;
  try {
    S.page = page(main, parts.slice(1)) || null;
  } catch (e) {
    S.page = null;
    showBanner(e.message);
  }
  document.title = (main.querySelector('h1') ? main.querySelector('h1').textContent + ' - ' : '') + 'Warren Management';
  refreshPage();
}

async function refreshPage() {
  const p = S.page;
  if (!p || !p.refresh) return;
  try {
    await p.refresh();
    if (p === S.page) showBanner('');
  } catch (e) {
    if (p === S.page && e.status !== 401) showBanner(e.message);
  }
}

function stopTimer() {
  if (S.timer) clearTimeout(S.timer);
  S.timer = null;
}

function startTimer() {
  stopTimer();
  if (!S.refreshMs || !S.user) return;
  S.timer = setTimeout(async () => {
    await pollOverview();
    await refreshPage();
    startTimer();
  }, S.refreshMs);
}

// pollOverview samples /api/overview for the overview charts, on every
// tick whatever the page, so the charts have history when shown.
async function pollOverview() {
  let o;
  try {
    o = await GET('/overview');
  } catch (e) {
    return;
  }
  S.overview = o;
  $('foot-version').textContent = (o.product_name || 'Warren') + ' ' + (o.product_version || '') +
    ' (RabbitMQ API ' + (o.management_version || o.rabbitmq_version || '?') + ') on ' + (o.node || '');
  const q = o.queue_totals || {}, m = o.message_stats || {};
  S.hist.push({
    t: Date.now(),
    ready: q.messages_ready || 0, unacked: q.messages_unacknowledged || 0, total: q.messages || 0,
    publish: rateOf(m, 'publish') || 0, deliver_get: rateOf(m, 'deliver_get') || 0, ack: rateOf(m, 'ack') || 0,
    redeliver: rateOf(m, 'redeliver') || 0, get: (rateOf(m, 'get') || 0) + (rateOf(m, 'get_no_ack') || 0),
  });
  if (S.hist.length > HIST_MAX) S.hist.shift();
  // Kept for a reload of the tab (the API keeps no history).
  try { sessionStorage.setItem('warren.hist', JSON.stringify(S.hist)); } catch (e) { /* full: the charts restart */ }
  $('refreshed').textContent = 'Refreshed ' + new Date().toLocaleTimeString('en-GB');
}

// ---------------------------------------------------------------- shared widgets

const COLORS = { ready: '#e0a526', unacked: '#4a7fcf', total: '#5b6560', publish: '#e0a526', deliver_get: '#2e8b57',
  ack: '#4a7fcf', redeliver: '#c0392b', get: '#8e5fc1', confirm: '#17a2b8' };

function queuedChart(hist) {
  return lineChart(hist.map(h => h.t), [
    { name: 'Ready', color: COLORS.ready, values: hist.map(h => h.ready) },
    { name: 'Unacked', color: COLORS.unacked, values: hist.map(h => h.unacked) },
    { name: 'Total', color: COLORS.total, dash: '5 3', values: hist.map(h => h.total) },
  ], { format: fmtNum });
}

function ratesChart(hist, keys) {
  const names = { publish: 'Publish', deliver_get: 'Deliver / get', ack: 'Consumer ack', redeliver: 'Redelivered', get: 'Get' };
  return lineChart(hist.map(h => h.t), (keys || ['publish', 'deliver_get', 'ack', 'redeliver', 'get']).map(k =>
    ({ name: names[k], color: COLORS[k], dash: k === 'ack' ? '5 3' : k === 'deliver_get' ? '2 2' : '', values: hist.map(h => h[k] || 0) })), { format: fmtRate });
}

// pager is the server-side paging, filtering and sorting of a list
// endpoint: the API's page, page_size, name, use_regex, sort and
// sort_reverse parameters, kept in sessionStorage per list.
function pager(id, opts) {
  const key = 'warren.list.' + id;
  const st = Object.assign({ page: 1, size: opts.size || 100, name: '', regex: false, sort: opts.sort || '', reverse: false },
    JSON.parse(sessionStorage.getItem(key) || '{}'));
  const save = () => sessionStorage.setItem(key, JSON.stringify(st));
  const filter = el('input', { type: 'search', placeholder: 'Filter by name', value: st.name, 'aria-label': 'Filter ' + id, 'data-role': 'filter' });
  const regex = el('input', { type: 'checkbox', checked: st.regex, 'data-role': 'regex' });
  const size = el('select', { 'aria-label': 'Page size' }, [20, 50, 100, 200, 500].map(n => el('option', { value: n, text: n + ' per page' })));
  size.value = String(st.size);
  const count = el('span', { class: 'count', 'data-role': 'count' });
  const pageNum = el('input', { type: 'number', min: 1, value: st.page, class: 'page-num', 'aria-label': 'Page', 'data-role': 'page' });
  const pageCount = el('span', { class: 'count' });
  const pageInfo = el('span', { class: 'count' }, 'page ', pageNum, ' ', pageCount);
  const prev = el('button', { type: 'button', class: 'small', text: '‹', title: 'Previous page', 'data-role': 'prev' });
  const next = el('button', { type: 'button', class: 'small', text: '›', title: 'Next page', 'data-role': 'next' });
  let debounce = null, onChange = () => {};
  filter.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { st.name = filter.value; st.page = 1; save(); onChange(); }, 300);
  });
  regex.addEventListener('change', () => { st.regex = regex.checked; st.page = 1; save(); onChange(); });
  size.addEventListener('change', () => { st.size = +size.value; st.page = 1; save(); onChange(); });
  prev.addEventListener('click', () => { if (st.page > 1) { st.page--; save(); onChange(); } });
  next.addEventListener('click', () => { st.page++; save(); onChange(); });
  pageNum.addEventListener('change', () => {
    const n = Math.floor(+pageNum.value);
    if (n >= 1) { st.page = n; save(); onChange(); }
  });
  const controls = el('div', { class: 'controls' },
    opts.noFilter ? null : filter, opts.noFilter ? null : el('label', null, regex, ' Regex'),
    count, el('span', { class: 'spacer' }),
    el('span', { class: 'pager' }, prev, ' ', pageInfo, ' ', next), size);
  return {
    controls, st,
    set onChange(f) { onChange = f; },
    query() {
      const q = new URLSearchParams({ page: st.page, page_size: st.size });
      if (st.name && !opts.noFilter) { q.set('name', st.name); q.set('use_regex', st.regex ? 'true' : 'false'); }
      if (st.sort) { q.set('sort', st.sort); q.set('sort_reverse', st.reverse ? 'true' : 'false'); }
      if (opts.columns) q.set('columns', opts.columns);
      return '?' + q.toString();
    },
    // fetch gets the current page of path, stepping back when a filter
    // or a delete has left the page past the end.
    async fetch(path) {
      let res;
      try {
        res = await GET(path + this.query());
      } catch (e) {
        if (e.status === 400 && st.page > 1 && /page_out_of_range|Page out of range/.test(e.message)) {
          st.page = 1; save();
          res = await GET(path + this.query());
        } else throw e;
      }
      const pages = Math.max(res.page_count || 1, 1);
      if (st.page > pages) { st.page = pages; save(); }
      count.textContent = res.filtered_count === res.total_count
        ? fmtNum(res.total_count) + (res.total_count === 1 ? ' item' : ' items')
        : fmtNum(res.filtered_count) + ' of ' + fmtNum(res.total_count) + ' items match';
      if (document.activeElement !== pageNum) pageNum.value = st.page;
      pageNum.max = pages;
      pageCount.textContent = 'of ' + fmtNum(pages);
      prev.disabled = st.page <= 1;
      next.disabled = st.page >= pages;
      return res.items || [];
    },
    // header makes th sortable on the server's sort key.
    th(label, sortKey, cls) {
      const th = el('th', { class: (cls || '') + (sortKey ? ' sortable' : ''), text: label });
      if (sortKey) {
        if (st.sort === sortKey) th.classList.add(st.reverse ? 'sorted-desc' : 'sorted-asc');
        th.addEventListener('click', () => {
          if (st.sort === sortKey) st.reverse = !st.reverse; else { st.sort = sortKey; st.reverse = false; }
          save(); onChange();
        });
      }
      return th;
    },
  };
}

function table(head, rows, emptyText) {
  const tbody = el('tbody');
  if (!rows.length) tbody.appendChild(el('tr', null, el('td', { class: 'empty', colspan: head.length, text: emptyText || 'Nothing to show.' })));
  else for (const r of rows) tbody.appendChild(r);
  return el('table', { class: 'list' }, el('thead', null, el('tr', null, head)), tbody);
}
const th = (t, cls) => el('th', { class: cls || '', text: t });
const td = (v, cls) => el('td', { class: cls || '' }, v === undefined || v === null ? '' : v);
const num = v => td(fmtNum(v), 'num');
const rate = v => td(fmtRate(v), 'num');

// confirmButton asks again in place before doing something destructive.
function confirmButton(label, question, action, cls) {
  const wrap = el('span', { class: 'actions' });
  const b = el('button', { type: 'button', class: 'danger ' + (cls || ''), text: label });
  const box = el('span', { class: 'confirm', hidden: true });
  const yes = el('button', { type: 'button', class: 'danger primary small', text: 'Yes, ' + label.toLowerCase() });
  const no = el('button', { type: 'button', class: 'small', text: 'Cancel' });
  box.append(question, yes, no);
  b.addEventListener('click', () => { box.hidden = false; b.hidden = true; });
  no.addEventListener('click', () => { box.hidden = true; b.hidden = false; });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    try { await action(); } finally { yes.disabled = false; box.hidden = true; b.hidden = false; }
  });
  wrap.append(b, box);
  return wrap;
}

// formResult shows the outcome of a form's action under it.
function resultLine() {
  const p = el('p', { class: 'form-ok', role: 'status', hidden: true });
  return {
    node: p,
    ok(msg) { p.className = 'form-ok'; p.textContent = msg; p.hidden = false; },
    err(e) { p.className = 'form-error'; p.textContent = e.message || String(e); p.hidden = false; },
    clear() { p.hidden = true; },
  };
}

// gridForm lays out [label, control] pairs and a submit button; submit
// runs action(values) and reports its outcome.
function gridForm(id, fields, submitLabel, action) {
  const res = resultLine();
  const f = el('form', { class: 'grid', id: id });
  for (const [label, control] of fields) {
    if (label === null) { f.append(el('span'), control); continue; }
    const cid = control.id || (id + '-' + label.toLowerCase().replace(/[^a-z0-9]+/g, '-'));
    if (!control.id && control.tagName) control.id = cid;
    f.append(el('label', { for: cid, text: label }), control);
  }
  const submit = el('button', { type: 'submit', class: 'primary', text: submitLabel });
  f.append(el('span'), el('div', { class: 'inline' }, submit, res.node));
  f.addEventListener('submit', async ev => {
    ev.preventDefault();
    res.clear();
    submit.disabled = true;
    try {
      const msg = await action();
      res.ok(msg || 'Done.');
    } catch (e) {
      res.err(e);
    } finally {
      submit.disabled = false;
    }
  });
  return f;
}

function parseJSONField(text, what) {
  text = (text || '').trim();
  if (!text) return {};
  let v;
  try { v = JSON.parse(text); } catch (e) { throw new Error(what + ' is not valid JSON: ' + e.message); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(what + ' must be a JSON object');
  return v;
}

// parseArgs reads "key = value" lines (RabbitMQ UI's argument rows) or
// a JSON object; numbers and booleans keep their type.
function parseArgs(text) {
  text = (text || '').trim();
  if (!text) return {};
  if (text.startsWith('{')) return parseJSONField(text, 'Arguments');
  const out = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const i = line.indexOf('=');
    if (i < 0) throw new Error('Arguments: "' + line.trim() + '" is not key = value');
    const k = line.slice(0, i).trim(), s = line.slice(i + 1).trim();
    out[k] = /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : s === 'true' ? true : s === 'false' ? false : s;
  }
  return out;
}

function vhostSelect(id, withAll) {
  const s = el('select', { id: id }, withAll ? el('option', { value: '', text: 'All' }) : null,
    S.vhosts.map(v => el('option', { value: v, text: vhostLabel(v) })));
  if (S.vhost) s.value = S.vhost;
  return s;
}

function features(o) {
  const out = [];
  if (o.durable) out.push(el('span', { class: 'badge', title: 'durable', text: 'D' }));
  if (o.auto_delete) out.push(el('span', { class: 'badge warn', title: 'auto-delete', text: 'AD' }));
  if (o.exclusive) out.push(el('span', { class: 'badge warn', title: 'exclusive', text: 'Excl' }));
  if (o.internal) out.push(el('span', { class: 'badge grey', title: 'internal', text: 'I' }));
  const args = o.arguments || {};
  for (const k of Object.keys(args)) {
    if (k === 'x-queue-type') continue;
    out.push(el('span', { class: 'badge grey', title: k + ': ' + JSON.stringify(args[k]), text: shortArg(k) }));
  }
  return out;
}
function shortArg(k) {
  const m = { 'x-message-ttl': 'TTL', 'x-expires': 'Exp', 'x-max-length': 'Lim', 'x-max-length-bytes': 'Lim B',
    'x-dead-letter-exchange': 'DLX', 'x-dead-letter-routing-key': 'DLK', 'x-max-priority': 'Pri',
    'x-overflow': 'Ovfl', 'x-single-active-consumer': 'SAC', 'x-queue-mode': 'Mode' };
  return m[k] || 'Args';
}
function stateCell(state) {
  return el('td', { class: 'state-' + (state || 'unknown'), text: state || '' });
}
function kv(pairs) {
  return el('table', { class: 'kv' }, el('tbody', null, pairs.filter(Boolean).map(([k, v]) =>
    el('tr', null, el('th', { text: k }), el('td', null, v === undefined || v === null || v === '' || (v.nodeType && !v.textContent) ? '—' : v)))));
}
function h1(title, sub) { return el('h1', null, title, sub ? el('small', { text: sub }) : null); }
function queueHref(v, n) { return '#/queues/' + enc(v) + '/' + enc(n); }
function exchangeHref(v, n) { return '#/exchanges/' + enc(v) + '/' + enc(n === '' ? 'amq.default' : n); }
function exchangeName(n) { return n === '' ? '(AMQP default)' : n; }

// ---------------------------------------------------------------- overview

PAGES[''] = function overviewPage(main) {
  const tiles = el('div', { class: 'tiles', id: 'totals' });
  const queued = el('div', { id: 'chart-queued' });
  const rates = el('div', { id: 'chart-rates' });
  const nodes = el('div', { id: 'nodes' });
  const listeners = el('div', { id: 'listeners' });
  main.append(h1('Overview'), tiles,
    el('div', { class: 'row' }, section('Queued messages', 'ov-queued', queued), section('Message rates', 'ov-rates', rates)),
    section('Nodes', 'ov-nodes', nodes),
    section('Ports and contexts', 'ov-ports', listeners));
  return {
    async refresh() {
      const o = S.overview;
      const nodeList = isMonitor() ? await GET('/nodes') : [];
      if (!o) return;
      const t = o.object_totals || {}, q = o.queue_totals || {};
      const tile = (n, l, href) => el('div', { class: 'tile', 'data-tile': l.toLowerCase() },
        el('div', { class: 'n' }, href ? el('a', { href, text: fmtNum(n) }) : fmtNum(n)), el('div', { class: 'l', text: l }));
      replace(tiles, tile(q.messages, 'Messages'), tile(q.messages_ready, 'Ready'), tile(q.messages_unacknowledged, 'Unacked'),
        tile(t.connections, 'Connections', '#/connections'), tile(t.channels, 'Channels', '#/channels'),
        tile(t.exchanges, 'Exchanges', '#/exchanges'), tile(t.queues, 'Queues', '#/queues'), tile(t.consumers, 'Consumers'));
      replace(queued, queuedChart(S.hist));
      replace(rates, ratesChart(S.hist));
      replace(nodes, nodeList.length || !isMonitor() ? nodesTable(nodeList) : el('p', { class: 'muted', text: 'No nodes.' }));
      if (!isMonitor()) replace(nodes, el('p', { class: 'muted', text: 'Node details need the monitoring or administrator tag.' }));
      replace(listeners, table([th('Protocol'), th('Bound to'), th('Port', 'num')],
        (o.listeners || []).map(l => el('tr', null, td(l.protocol), td(l.ip_address), td(String(l.port), 'num')))));
    },
  };
};

function usageBar(used, total, warnAt, badAt) {
  const f = total > 0 ? Math.min(used / total, 1) : 0;
  const bar = el('span', { class: 'bar' + (f >= badAt ? ' bad' : f >= warnAt ? ' warn' : '') }, el('i'));
  bar.firstChild.style.width = (f * 100).toFixed(1) + '%';
  return bar;
}

function nodesTable(list) {
  return table([th('Name'), th('File descriptors'), th('Memory'), th('Disk space free'), th('Uptime'), th('Cores', 'num'), th('Health')],
    list.map(n => {
      const alarms = [];
      if (n.mem_alarm) alarms.push(el('span', { class: 'badge bad', text: 'memory alarm' }));
      if (n.disk_free_alarm) alarms.push(el('span', { class: 'badge bad', text: 'disk alarm' }));
      if (n.running === false) alarms.push(el('span', { class: 'badge bad', text: 'not running' }));
      const mem = n.mem_limit ? [usageBar(n.mem_used, n.mem_limit, 0.7, 0.9), fmtBytes(n.mem_used) + ' of ' + fmtBytes(n.mem_limit)]
        : [fmtBytes(n.mem_used)];
      const disk = [fmtBytes(n.disk_free)];
      if (n.disk_free_limit) disk.push(el('span', { class: 'muted' }, ' (alarm below ' + fmtBytes(n.disk_free_limit) + ')'));
      return el('tr', { 'data-node': n.name },
        td(n.name),
        td([usageBar(n.fd_used, n.fd_total, 0.7, 0.9), fmtNum(n.fd_used) + ' / ' + fmtNum(n.fd_total)]),
        td(mem), td(disk), td(fmtDuration(n.uptime)), num(n.processors),
        td(alarms.length ? alarms : el('span', { class: 'badge', text: 'ok' })));
    }));
}

// ---------------------------------------------------------------- connections

PAGES.connections = function connectionsPage(main, args) {
  if (args.length) return connectionPage(main, args[0]);
  const p = pager('connections', { sort: '' });
  const body = el('div');
  main.append(h1('Connections', S.vhost ? 'in ' + vhostLabel(S.vhost) : ''), section('All connections', 'conn-list', p.controls, body));
  const refresh = async () => {
    const rows = await p.fetch(S.vhost ? '/vhosts/' + enc(S.vhost) + '/connections' : '/connections');
    replace(body, table([
      S.vhost ? null : p.th('Virtual host', 'vhost'), p.th('Name', 'name'), p.th('User', 'user'), p.th('State', 'state'),
      th('SSL / TLS'), p.th('Protocol', 'protocol'), p.th('Channels', 'channels', 'num'),
      th('From client', 'num'), th('To client', 'num'), th('Client'), p.th('Connected at', 'connected_at'),
    ].filter(Boolean), rows.map(c => {
      const cp = c.client_properties || {};
      const from = c.recv_oct_details ? c.recv_oct_details.rate : derivedRate('conn.recv\0' + c.name, c.recv_oct);
      const to = c.send_oct_details ? c.send_oct_details.rate : derivedRate('conn.send\0' + c.name, c.send_oct);
      return el('tr', { 'data-name': c.name },
        S.vhost ? null : td(vhostLabel(c.vhost)),
        td([el('a', { href: '#/connections/' + enc(c.name), text: c.name }),
          cp.connection_name ? el('div', { class: 'sub', text: cp.connection_name }) : null]),
        td(c.user), stateCell(c.state), td(c.ssl ? '●' : '○'), td(c.protocol), num(c.channels),
        td(from === undefined ? '—' : fmtBytes(from) + '/s', 'num'), td(to === undefined ? '—' : fmtBytes(to) + '/s', 'num'),
        td([cp.product, cp.version].filter(Boolean).join(' ')),
        td(fmtTime(c.connected_at)));
    }), 'No connections.'));
  };
  p.onChange = refreshPage;
  return { refresh };
};

function connectionPage(main, name) {
  const info = el('div'), props = el('div'), chans = el('div');
  const res = resultLine();
  let gone = false;
  const reason = el('input', { value: 'Closed via management UI', size: 40, 'aria-label': 'Reason' });
  main.append(h1('Connection', name),
    section('Details', 'conn-details', info),
    section('Client properties', 'conn-props', props),
    section('Channels', 'conn-channels', chans),
    section('Close this connection', 'conn-close', el('div', { class: 'actions' }, 'Reason ', reason,
      confirmButton('Close', 'Close the connection? ', async () => {
        try {
          await api('DELETE', '/connections/' + enc(name), undefined, { 'X-Reason': reason.value });
          gone = true; // no more polling of a connection that is not there
          replace(info, el('p', { class: 'muted', text: 'This connection is closed.' }));
          replace(chans);
          res.ok('Connection closed.');
        } catch (e) { res.err(e); }
      })), res.node));
  return {
    async refresh() {
      if (gone) return;
      let c;
      try { c = await GET('/connections/' + enc(name)); } catch (e) {
        if (e.status === 404) { gone = true; replace(info, el('p', { class: 'muted', text: 'This connection is closed.' })); replace(chans); return; }
        throw e;
      }
      replace(info, kv([
        ['Virtual host', vhostLabel(c.vhost)], ['User', c.user], ['State', c.state], ['Protocol', c.protocol],
        ['Peer', c.peer_host + ':' + c.peer_port], ['Local', c.host + ':' + c.port], ['SSL / TLS', c.ssl ? 'yes' : 'no'],
        ['Heartbeat', c.timeout + ' s'], ['Frame max', fmtNum(c.frame_max)], ['Channel max', fmtNum(c.channel_max)],
        ['Received', fmtBytes(c.recv_oct)], ['Sent', fmtBytes(c.send_oct)], ['Connected at', fmtTime(c.connected_at)],
      ]));
      const cp = c.client_properties || {};
      replace(props, kv(Object.keys(cp).sort().map(k => [k, typeof cp[k] === 'object' ? el('code', { text: JSON.stringify(cp[k]) }) : String(cp[k])])));
      const list = await GET('/connections/' + enc(name) + '/channels');
      replace(chans, channelsTable(list, false));
    },
  };
}

// ---------------------------------------------------------------- channels

function channelsTable(rows, withVhost, p) {
  const T = p ? p.th.bind(p) : (l, _k, c) => th(l, c);
  // RabbitMQ's columns: the mode (C: confirms, T: transactional), the
  // prefetch windows (per consumer, and the channel's with "global"), and
  // what waits on the channel: unconfirmed publishes, unacked deliveries,
  // a transaction's publishes and acks.
  const mode = c => (c.confirm ? 'C' : '') + (c.transactional ? 'T' : '');
  const prefetch = c => {
    const parts = [];
    if (c.prefetch_count) parts.push(fmtNum(c.prefetch_count));
    if (c.global_prefetch_count) parts.push(fmtNum(c.global_prefetch_count) + ' (global)');
    return parts.length ? parts.join(' / ') : '\u221e';
  };
  return table([
    withVhost ? T('Virtual host', 'vhost') : null, T('Channel', 'name'), T('User', 'user'),
    el('th', { text: 'Mode', title: 'C = confirm, T = transactional' }), T('State', 'state'),
    T('Consumers', 'consumer_count', 'num'), T('Prefetch', 'prefetch_count', 'num'),
    T('Unconfirmed', 'messages_unconfirmed', 'num'), T('Unacked', 'messages_unacknowledged', 'num'),
    T('Uncommitted msgs', 'messages_uncommitted', 'num'), T('Uncommitted acks', 'acks_uncommitted', 'num'),
    th('Publish', 'num'), th('Deliver / get', 'num'), th('Ack', 'num'),
  ].filter(Boolean), rows.map(c => {
    const m = c.message_stats || {};
    const r = k => rateOf(m, k) !== undefined ? rateOf(m, k) : derivedRate('chan.' + k + '\0' + c.name, m[k] || 0);
    return el('tr', { 'data-name': c.name },
      withVhost ? td(vhostLabel(c.vhost)) : null,
      td(c.connection_details ? el('a', { href: '#/connections/' + enc(c.connection_details.name), text: c.name }) : c.name, 'wrap'),
      td(c.user), td(mode(c), 'mode'), stateCell(c.state), num(c.consumer_count), td(prefetch(c), 'num prefetch'),
      num(c.messages_unconfirmed), num(c.messages_unacknowledged),
      num(c.messages_uncommitted), num(c.acks_uncommitted),
      rate(r('publish')), rate(r('deliver_get')), rate(r('ack')));
  }), 'No channels.');
}

PAGES.channels = function channelsPage(main) {
  const p = pager('channels', {});
  const body = el('div');
  main.append(h1('Channels', S.vhost ? 'in ' + vhostLabel(S.vhost) : ''), section('All channels', 'chan-list', p.controls, body));
  p.onChange = refreshPage;
  return {
    async refresh() {
      const rows = await p.fetch(S.vhost ? '/vhosts/' + enc(S.vhost) + '/channels' : '/channels');
      replace(body, channelsTable(rows, !S.vhost, p));
    },
  };
};

// ---------------------------------------------------------------- exchanges

PAGES.exchanges = function exchangesPage(main, args) {
  if (args.length >= 2) return exchangePage(main, args[0], args[1]);
  const p = pager('exchanges', {});
  const body = el('div');
  const name = el('input', { required: true, size: 30 });
  const type = el('select', null, ['direct', 'fanout', 'topic', 'headers'].map(t => el('option', { value: t, text: t })));
  const types = S.overview && S.overview.exchange_types;
  if (types) replace(type, types.map(t => el('option', { value: t.name, text: t.name })));
  const vh = vhostSelect('new-exchange-vhost');
  const durable = el('select', null, el('option', { value: 'true', text: 'Durable' }), el('option', { value: 'false', text: 'Transient' }));
  const autoDel = el('select', null, el('option', { value: 'false', text: 'No' }), el('option', { value: 'true', text: 'Yes' }));
  const internal = el('select', null, el('option', { value: 'false', text: 'No' }), el('option', { value: 'true', text: 'Yes' }));
  const argsIn = el('textarea', { placeholder: 'alternate-exchange = my-ae\n(one key = value a line, or a JSON object)', rows: 2 });
  main.append(h1('Exchanges', S.vhost ? 'in ' + vhostLabel(S.vhost) : ''),
    section('All exchanges', 'ex-list', p.controls, body),
    section('Add a new exchange', 'ex-add', gridForm('add-exchange', [
      ['Virtual host', vh], ['Name', name], ['Type', type], ['Durability', durable], ['Auto delete', autoDel], ['Internal', internal],
      ['Arguments', argsIn]], 'Add exchange', async () => {
      await api('PUT', '/exchanges/' + enc(vh.value) + '/' + enc(name.value), {
        type: type.value, durable: durable.value === 'true', auto_delete: autoDel.value === 'true',
        internal: internal.value === 'true', arguments: parseArgs(argsIn.value) });
      refreshPage();
      return 'Exchange ' + name.value + ' declared.';
    })));
  p.onChange = refreshPage;
  return {
    async refresh() {
      const rows = await p.fetch('/exchanges' + vhostPath());
      const hasRates = rows.some(x => x.message_stats);
      replace(body, table([
        S.vhost ? null : p.th('Virtual host', 'vhost'), p.th('Name', 'name'), p.th('Type', 'type'), th('Features'),
        hasRates ? th('Message rate in', 'num') : null, hasRates ? th('Message rate out', 'num') : null,
      ].filter(Boolean), rows.map(x => {
        const m = x.message_stats || {};
        return el('tr', { 'data-name': x.name },
          S.vhost ? null : td(vhostLabel(x.vhost)),
          td(el('a', { href: exchangeHref(x.vhost, x.name), text: exchangeName(x.name) })),
          td(x.type), td(features(x)),
          hasRates ? rate(rateOf(m, 'publish_in')) : null, hasRates ? rate(rateOf(m, 'publish_out')) : null);
      }), 'No exchanges.'));
    },
  };
};

function bindingsTable(rows, side, onDelete) {
  return table([
    side !== 'source' ? th('From') : null, side !== 'destination' ? th('To') : null, th('Routing key'), th('Arguments'), th(''),
  ].filter(Boolean), rows.map(b => el('tr', { 'data-key': b.properties_key },
    side !== 'source' ? td(b.source === '' ? exchangeName('') : el('a', { href: exchangeHref(b.vhost, b.source), text: b.source })) : null,
    side !== 'destination' ? td([el('span', { class: 'badge grey', text: b.destination_type === 'queue' ? 'queue' : 'exchange' }),
      el('a', { href: b.destination_type === 'queue' ? queueHref(b.vhost, b.destination) : exchangeHref(b.vhost, b.destination), text: b.destination })]) : null,
    td(el('code', { text: b.routing_key })), td(el('code', { text: fmtJSON(b.arguments) })),
    td(b.source === '' ? el('span', { class: 'muted', text: '(default binding)' }) : el('button', { type: 'button', class: 'small danger', text: 'Unbind',
      onclick: () => onDelete(b) })))), 'No bindings.');
}

async function deleteBinding(b) {
  await api('DELETE', '/bindings/' + enc(b.vhost) + '/e/' + enc(b.source) + '/' + (b.destination_type === 'queue' ? 'q' : 'e') + '/' +
    enc(b.destination) + '/' + enc(b.properties_key));
}

function publishForm(id, vhost, exchange, fixedKey) {
  const key = el('input', { size: 30, value: fixedKey === undefined ? '' : fixedKey, disabled: fixedKey !== undefined });
  const mode = el('select', null, el('option', { value: '1', text: '1 - Non-persistent' }), el('option', { value: '2', text: '2 - Persistent' }));
  const headers = el('textarea', { rows: 2, placeholder: 'key = value lines, or a JSON object' });
  const props = el('textarea', { rows: 2, placeholder: 'content_type = application/json\nmessage_id = 42' });
  const payload = el('textarea', { rows: 4, id: id + '-payload' });
  const encoding = el('select', null, el('option', { value: 'string', text: 'String' }), el('option', { value: 'base64', text: 'Base64' }));
  return gridForm(id, [
    fixedKey === undefined ? ['Routing key', key] : null, ['Delivery mode', mode], ['Headers', headers], ['Properties', props],
    ['Payload', payload], ['Payload encoding', encoding]].filter(Boolean), 'Publish message', async () => {
    const properties = parseArgs(props.value);
    properties.delivery_mode = +mode.value;
    const h = parseArgs(headers.value);
    if (Object.keys(h).length) properties.headers = h;
    const r = await api('POST', '/exchanges/' + enc(vhost) + '/' + enc(exchange === '' ? 'amq.default' : exchange) + '/publish', {
      properties, routing_key: key.value, payload: payload.value, payload_encoding: encoding.value });
    setTimeout(refreshPage, 50);
    return r && r.routed ? 'Message published.' : 'Message published, but not routed.';
  });
}

function exchangePage(main, vhost, name) {
  if (name === 'amq.default') name = '';
  const info = el('div'), src = el('div'), dst = el('div');
  const res = resultLine();
  const destType = el('select', null, el('option', { value: 'q', text: 'To queue' }), el('option', { value: 'e', text: 'To exchange' }));
  const dest = el('input', { required: true, size: 30 });
  const key = el('input', { size: 30 });
  const bargs = el('textarea', { rows: 2, placeholder: 'key = value lines, or a JSON object' });
  const unbind = async b => { try { await deleteBinding(b); refreshPage(); } catch (e) { showBanner(e.message); } };
  main.append(h1('Exchange ' + exchangeName(name), 'in virtual host ' + vhostLabel(vhost)),
    section('Details', 'ex-details', info),
    section('Bindings from this exchange', 'ex-src', src,
      name === '' ? null : el('h2', { text: 'Add binding from this exchange' }),
      name === '' ? null : gridForm('add-binding', [['Destination', el('div', { class: 'inline' }, destType, dest)], ['Routing key', key], ['Arguments', bargs]],
        'Bind', async () => {
          await api('POST', '/bindings/' + enc(vhost) + '/e/' + enc(name) + '/' + destType.value + '/' + enc(dest.value),
            { routing_key: key.value, arguments: parseArgs(bargs.value) });
          refreshPage();
          return 'Bound.';
        })),
    section('Bindings to this exchange', 'ex-dst', dst),
    section('Publish message', 'ex-publish', publishForm('publish', vhost, name)),
    name === '' || name.startsWith('amq.') ? null : section('Delete this exchange', 'ex-delete', confirmButton('Delete', 'Delete exchange ' + name + '? ', async () => {
      try {
        await api('DELETE', '/exchanges/' + enc(vhost) + '/' + enc(name));
        location.hash = '#/exchanges';
      } catch (e) { res.err(e); }
    }), res.node));
  return {
    async refresh() {
      const x = await GET('/exchanges/' + enc(vhost) + '/' + enc(name === '' ? 'amq.default' : name));
      replace(info, kv([['Type', x.type], ['Features', features(x)], ['Arguments', el('code', { text: fmtJSON(x.arguments) })],
        ['Policy', x.policy]]));
      const [s, d] = await Promise.all([
        GET('/exchanges/' + enc(vhost) + '/' + enc(name === '' ? 'amq.default' : name) + '/bindings/source'),
        GET('/exchanges/' + enc(vhost) + '/' + enc(name === '' ? 'amq.default' : name) + '/bindings/destination')]);
      replace(src, bindingsTable(s, 'source', unbind));
      replace(dst, bindingsTable(d, 'destination', unbind));
    },
  };
}

// ---------------------------------------------------------------- queues

// noteQueue records a queue's counts and rates for its sparkline.
function noteQueue(q) {
  const k = q.vhost + '\0' + q.name;
  let h = S.qhist.get(k);
  if (!h) {
    h = [];
    if (S.qhist.size >= QHIST_KEYS) S.qhist.delete(S.qhist.keys().next().value);
  } else S.qhist.delete(k); // re-insert: the Map stays in least-recently-seen order
  S.qhist.set(k, h);
  const m = q.message_stats || {};
  const now = Date.now();
  const last = h[h.length - 1];
  const s = { t: now, ready: q.messages_ready || 0, unacked: q.messages_unacknowledged || 0, total: q.messages || 0,
    publish: rateOf(m, 'publish') || 0, deliver_get: rateOf(m, 'deliver_get') || 0, ack: rateOf(m, 'ack') || 0,
    redeliver: rateOf(m, 'redeliver') || 0, get: (rateOf(m, 'get') || 0) + (rateOf(m, 'get_no_ack') || 0) };
  if (last && now - last.t < 500) h[h.length - 1] = s; else h.push(s);
  if (h.length > QHIST_MAX) h.shift();
  return h;
}

const QUEUE_COLUMNS = 'name,vhost,type,durable,auto_delete,exclusive,arguments,policy,operator_policy,state,consumers,messages,messages_ready,messages_unacknowledged,message_stats';

PAGES.queues = function queuesPage(main, args) {
  if (args.length >= 2) return queuePage(main, args[0], args[1]);
  const p = pager('queues', { columns: QUEUE_COLUMNS });
  const body = el('div');
  const name = el('input', { required: true, size: 30 });
  const vh = vhostSelect('new-queue-vhost');
  const type = el('select', null, ['classic', 'quorum', 'stream'].map(t => el('option', { value: t, text: t })));
  const durable = el('select', null, el('option', { value: 'true', text: 'Durable' }), el('option', { value: 'false', text: 'Transient' }));
  const autoDel = el('select', null, el('option', { value: 'false', text: 'No' }), el('option', { value: 'true', text: 'Yes' }));
  const argsIn = el('textarea', { rows: 2, placeholder: 'x-message-ttl = 60000\nx-dead-letter-exchange = dlx' });
  main.append(h1('Queues', S.vhost ? 'in ' + vhostLabel(S.vhost) : ''),
    section('All queues', 'q-list', p.controls, body),
    section('Add a new queue', 'q-add', gridForm('add-queue', [
      ['Virtual host', vh], ['Type', type], ['Name', name], ['Durability', durable], ['Auto delete', autoDel], ['Arguments', argsIn]],
    'Add queue', async () => {
      const a = parseArgs(argsIn.value);
      if (type.value !== 'classic') a['x-queue-type'] = type.value;
      await api('PUT', '/queues/' + enc(vh.value) + '/' + enc(name.value), {
        durable: durable.value === 'true', auto_delete: autoDel.value === 'true', arguments: a });
      refreshPage();
      return 'Queue ' + name.value + ' declared.';
    })));
  p.onChange = refreshPage;
  return {
    async refresh() {
      const rows = await p.fetch('/queues' + vhostPath());
      replace(body, table([
        S.vhost ? null : p.th('Virtual host', 'vhost'), p.th('Name', 'name'), p.th('Type', 'type'), th('Features'),
        p.th('Policy', 'policy'), p.th('State', 'state'), p.th('Ready', 'messages_ready', 'num'), p.th('Unacked', 'messages_unacknowledged', 'num'),
        p.th('Total', 'messages', 'num'), th('Messages (trend)'), p.th('Incoming', 'message_stats.publish_details.rate', 'num'),
        p.th('Deliver / get', 'message_stats.deliver_get_details.rate', 'num'), p.th('Ack', 'message_stats.ack_details.rate', 'num'),
        p.th('Consumers', 'consumers', 'num'),
      ].filter(Boolean), rows.map(q => {
        const h = noteQueue(q);
        const m = q.message_stats || {};
        return el('tr', { 'data-vhost': q.vhost, 'data-name': q.name },
          S.vhost ? null : td(vhostLabel(q.vhost)),
          td(el('a', { href: queueHref(q.vhost, q.name), text: q.name })),
          td(q.type), td(features(q)), td(q.policy || ''), stateCell(q.state),
          td(fmtNum(q.messages_ready), 'num c-ready'), td(fmtNum(q.messages_unacknowledged), 'num c-unacked'),
          td(fmtNum(q.messages), 'num c-messages'), td(sparkline(h.map(s => s.total), COLORS.ready)),
          rate(rateOf(m, 'publish')), rate(rateOf(m, 'deliver_get')), rate(rateOf(m, 'ack')), num(q.consumers));
      }), p.st.name ? 'No queue matches the filter.' : 'No queues.'));
    },
  };
};

function queuePage(main, vhost, name) {
  const base = '/queues/' + enc(vhost) + '/' + enc(name);
  const tiles = el('div', { class: 'tiles', id: 'queue-counts' });
  const queued = el('div'), rates = el('div'), info = el('div'), consumers = el('div'), binds = el('div');
  const msgs = el('div', { id: 'got-messages' });
  const res = resultLine();
  // Get messages
  const ackmode = el('select', null,
    el('option', { value: 'ack_requeue_true', text: 'Nack message requeue true' }),
    el('option', { value: 'reject_requeue_true', text: 'Reject requeue true' }),
    el('option', { value: 'ack_requeue_false', text: 'Automatic ack' }),
    el('option', { value: 'reject_requeue_false', text: 'Reject requeue false' }));
  const encoding = el('select', null, el('option', { value: 'auto', text: 'Auto string / base64' }), el('option', { value: 'base64', text: 'base64' }));
  const count = el('input', { type: 'number', min: 1, max: 1000, value: 1 });
  const truncate = el('input', { type: 'number', min: 0, value: 50000 });
  const getForm = gridForm('get-messages', [['Ack mode', ackmode], ['Encoding', encoding], ['Messages', count], ['Truncate (bytes)', truncate]],
    'Get message(s)', async () => {
      const got = await api('POST', base + '/get', { count: +count.value, ackmode: ackmode.value, encoding: encoding.value, truncate: +truncate.value });
      replace(msgs, got.length ? got.map((m, i) => el('div', { class: 'message', 'data-message': i },
        kv([['Message', String(i + 1)], ['Exchange', exchangeName(m.exchange)], ['Routing key', m.routing_key],
          ['Redelivered', m.redelivered ? 'yes' : 'no'], ['Remaining', fmtNum(m.message_count)],
          ['Properties', el('code', { text: fmtJSON(m.properties) })],
          ['Payload', fmtNum(m.payload_bytes) + ' bytes, encoding ' + m.payload_encoding]]),
        el('pre', { class: 'payload', text: m.payload }))) : el('p', { class: 'muted', text: 'Queue is empty.' }));
      setTimeout(refreshPage, 50);
      return got.length ? got.length + ' message(s).' : 'Queue is empty.';
    });
  // Bindings
  const bx = el('input', { required: true, size: 30, placeholder: 'exchange name' });
  const bkey = el('input', { size: 30, value: '' });
  const bargs = el('textarea', { rows: 2, placeholder: 'key = value lines, or a JSON object' });
  const unbind = async b => { try { await deleteBinding(b); refreshPage(); } catch (e) { showBanner(e.message); } };
  const ifEmpty = el('input', { type: 'checkbox' }), ifUnused = el('input', { type: 'checkbox' });
  main.append(h1('Queue ' + name, 'in virtual host ' + vhostLabel(vhost)), tiles,
    el('div', { class: 'row' }, section('Queued messages', 'qp-queued', queued), section('Message rates', 'qp-rates', rates)),
    section('Details', 'qp-details', info),
    section('Consumers', 'qp-consumers', consumers),
    section('Bindings', 'qp-bindings', binds, el('h2', { text: 'Add binding to this queue' }),
      gridForm('add-queue-binding', [['From exchange', bx], ['Routing key', bkey], ['Arguments', bargs]], 'Bind', async () => {
        await api('POST', '/bindings/' + enc(vhost) + '/e/' + enc(bx.value) + '/q/' + enc(name), { routing_key: bkey.value, arguments: parseArgs(bargs.value) });
        refreshPage();
        return 'Bound.';
      })),
    section('Publish message', 'qp-publish', el('p', { class: 'muted', text: 'Published to the default exchange with routing key ' + name + '.' }),
      publishForm('publish', vhost, '', name)),
    section('Get messages', 'qp-get', el('p', { class: 'muted', text: 'Getting messages is destructive with automatic ack or reject requeue false.' }), getForm, msgs),
    section('Delete or purge', 'qp-delete', el('div', { class: 'actions', id: 'purge' }, confirmButton('Purge', 'Remove every ready message? ', async () => {
      try {
        await api('DELETE', base + '/contents');
        res.ok('Queue purged.');
        refreshPage();
      } catch (e) { res.err(e); }
    })), el('div', { class: 'actions', id: 'delete' },
      el('label', null, ifEmpty, ' only if empty'), el('label', null, ifUnused, ' only if unused'),
      confirmButton('Delete', 'Delete queue ' + name + '? ', async () => {
        try {
          const q = new URLSearchParams();
          if (ifEmpty.checked) q.set('if-empty', 'true');
          if (ifUnused.checked) q.set('if-unused', 'true');
          await api('DELETE', base + (q.toString() ? '?' + q : ''));
          location.hash = '#/queues';
        } catch (e) { res.err(e); }
      })), res.node));
  return {
    async refresh() {
      let q;
      try { q = await GET(base); } catch (e) {
        if (e.status === 404) { replace(tiles, el('p', { class: 'muted', text: 'This queue does not exist (any more).' })); return; }
        throw e;
      }
      const h = noteQueue(q);
      const tile = (n, l, cls) => el('div', { class: 'tile ' + cls, 'data-tile': cls }, el('div', { class: 'n', text: fmtNum(n) }), el('div', { class: 'l', text: l }));
      replace(tiles, tile(q.messages, 'Total', 'messages'), tile(q.messages_ready, 'Ready', 'ready'),
        tile(q.messages_unacknowledged, 'Unacked', 'unacked'), tile(q.consumers, 'Consumers', 'consumers'),
        q.message_bytes !== undefined ? el('div', { class: 'tile' }, el('div', { class: 'n', text: fmtBytes(q.message_bytes) }), el('div', { class: 'l', text: 'Message bytes' })) : null,
        q.memory !== undefined ? el('div', { class: 'tile' }, el('div', { class: 'n', text: fmtBytes(q.memory) }), el('div', { class: 'l', text: 'Memory' })) : null);
      replace(queued, queuedChart(h));
      replace(rates, ratesChart(h));
      replace(info, kv([['Type', q.type], ['Features', features(q)], ['State', q.state],
        ['Arguments', el('code', { text: fmtJSON(q.arguments) })], ['Policy', q.policy], ['Operator policy', q.operator_policy],
        ['Effective policy definition', el('code', { text: fmtJSON(q.effective_policy_definition) })],
        ['Node', q.node], q.exclusive_consumer_tag ? ['Exclusive owner', q.exclusive_consumer_tag] : null]));
      const cons = q.consumer_details || [];
      const hasPrefetch = cons.some(c => c.prefetch_count !== undefined);
      replace(consumers, table([th('Channel'), th('Consumer tag'), th('Ack required'), th('Exclusive'), hasPrefetch ? th('Prefetch', 'num') : null,
        th('Active'), th('Arguments')].filter(Boolean),
        cons.map(c => el('tr', null,
          td(c.channel_details ? el('a', { href: '#/connections/' + enc(c.channel_details.connection_name), text: c.channel_details.name }) : ''),
          td(el('code', { text: c.consumer_tag })), td(c.ack_required ? '●' : '○'), td(c.exclusive ? '●' : '○'),
          hasPrefetch ? num(c.prefetch_count) : null, td(c.activity_status || (c.active ? 'up' : '')), td(el('code', { text: fmtJSON(c.arguments) })))), 'No consumers.'));
      replace(binds, bindingsTable(await GET(base + '/bindings'), 'destination', unbind));
    },
  };
}

// ---------------------------------------------------------------- bindings

PAGES.bindings = function bindingsPage(main) {
  const p = pager('bindings', { noFilter: true });
  const body = el('div');
  main.append(h1('Bindings', S.vhost ? 'in ' + vhostLabel(S.vhost) : ''), section('All bindings', 'b-list', p.controls, body));
  p.onChange = refreshPage;
  return {
    async refresh() {
      const rows = await p.fetch('/bindings' + vhostPath());
      replace(body, table([
        S.vhost ? null : p.th('Virtual host', 'vhost'), p.th('Source', 'source'), p.th('Destination', 'destination'),
        p.th('Type', 'destination_type'), p.th('Routing key', 'routing_key'), th('Arguments'), th(''),
      ].filter(Boolean), rows.map(b => el('tr', { 'data-key': b.properties_key },
        S.vhost ? null : td(vhostLabel(b.vhost)),
        td(b.source === '' ? exchangeName('') : el('a', { href: exchangeHref(b.vhost, b.source), text: b.source })),
        td(el('a', { href: b.destination_type === 'queue' ? queueHref(b.vhost, b.destination) : exchangeHref(b.vhost, b.destination), text: b.destination })),
        td(b.destination_type), td(el('code', { text: b.routing_key })), td(el('code', { text: fmtJSON(b.arguments) })),
        td(b.source === '' ? '' : el('button', { type: 'button', class: 'small danger', text: 'Unbind', onclick: async () => {
          try { await deleteBinding(b); refreshPage(); } catch (e) { showBanner(e.message); }
        } })))), 'No bindings.'));
    },
  };
};

// ---------------------------------------------------------------- vhosts

PAGES.vhosts = function vhostsPage(main) {
  const p = pager('vhosts', {});
  const body = el('div');
  const name = el('input', { required: true, size: 30 });
  const desc = el('input', { size: 40 });
  const tags = el('input', { size: 30, placeholder: 'comma-separated' });
  const dqt = el('select', null, el('option', { value: '', text: '(none)' }), ['classic', 'quorum', 'stream'].map(t => el('option', { value: t, text: t })));
  main.append(h1('Virtual hosts'), section('All virtual hosts', 'vh-list', p.controls, body),
    section('Add a new virtual host', 'vh-add', gridForm('add-vhost', [['Name', name], ['Description', desc], ['Tags', tags], ['Default queue type', dqt]],
      'Add virtual host', async () => {
        const b = { description: desc.value, tags: tags.value };
        if (dqt.value) b.default_queue_type = dqt.value;
        await api('PUT', '/vhosts/' + enc(name.value), b);
        await loadVHosts();
        refreshPage();
        return 'Virtual host ' + name.value + ' added.';
      })));
  p.onChange = refreshPage;
  return {
    async refresh() {
      const rows = await p.fetch('/vhosts');
      replace(body, table([p.th('Name', 'name'), th('Description'), th('Tags'), p.th('Ready', 'messages_ready', 'num'),
        p.th('Unacked', 'messages_unacknowledged', 'num'), p.th('Total', 'messages', 'num'), th('Publish', 'num'), th('Deliver / get', 'num'), th('')],
      rows.map(v => el('tr', { 'data-name': v.name }, td(v.name), td(v.description || ''), td((v.tags || []).map(t => el('span', { class: 'badge grey', text: t }))),
        num(v.messages_ready), num(v.messages_unacknowledged), num(v.messages),
        rate(rateOf(v.message_stats, 'publish')), rate(rateOf(v.message_stats, 'deliver_get')),
        td(confirmButton('Delete', 'Delete ' + v.name + ' and everything in it? ', async () => {
          try { await api('DELETE', '/vhosts/' + enc(v.name)); await loadVHosts(); refreshPage(); } catch (e) { showBanner(e.message); }
        }, 'small')))), 'No virtual hosts.'));
    },
  };
};

// ---------------------------------------------------------------- users

PAGES.users = function usersPage(main) {
  const p = pager('users', {});
  const body = el('div');
  const name = el('input', { required: true, size: 30, autocomplete: 'off' });
  const pass = el('input', { type: 'password', size: 30, autocomplete: 'new-password' });
  const tags = el('input', { size: 40, placeholder: 'administrator, monitoring, policymaker, management' });
  const tagButtons = el('div', { class: 'inline' }, ['administrator', 'monitoring', 'policymaker', 'management', 'impersonator', 'none'].map(t =>
    el('button', { type: 'button', class: 'small', text: t, onclick: () => {
      if (t === 'none') { tags.value = ''; return; }
      const cur = tags.value.split(',').map(s => s.trim()).filter(Boolean);
      if (!cur.includes(t)) cur.push(t);
      tags.value = cur.join(', ');
    } })));
  main.append(h1('Users'), section('All users', 'u-list', p.controls, body),
    section('Add or update a user', 'u-add', gridForm('add-user', [['Username', name], ['Password', pass], ['Tags', tags], [null, tagButtons]],
      'Add / update user', async () => {
        const b = { tags: tags.value.split(',').map(s => s.trim()).filter(Boolean).join(',') };
        if (pass.value) b.password = pass.value;
        else {
          // No password typed: keep an existing user's, or create one
          // without a password (it can then log in only by certificate).
          let old = null;
          try { old = await GET('/users/' + enc(name.value)); } catch (e) { if (e.status !== 404) throw e; }
          b.password_hash = old ? old.password_hash || '' : '';
          if (old && old.hashing_algorithm) b.hashing_algorithm = old.hashing_algorithm;
        }
        await api('PUT', '/users/' + enc(name.value), b);
        refreshPage();
        return 'User ' + name.value + ' saved.';
      })));
  p.onChange = refreshPage;
  return {
    async refresh() {
      const [rows, perms] = await Promise.all([p.fetch('/users'), GET('/permissions')]);
      const access = {};
      for (const x of perms) (access[x.user] = access[x.user] || []).push(x.vhost);
      replace(body, table([p.th('Name', 'name'), th('Tags'), th('Can access virtual hosts'), th('Has password'), th('')],
        rows.map(u => {
          const tl = Array.isArray(u.tags) ? u.tags : String(u.tags || '').split(',').filter(Boolean);
          return el('tr', { 'data-name': u.name }, td(u.name), td(tl.map(t => el('span', { class: 'badge', text: t }))),
            td((access[u.name] || []).map(v => el('span', { class: 'badge grey', text: vhostLabel(v) }))),
            td(u.password_hash ? '●' : '○'),
            td(u.name === S.user.name ? el('span', { class: 'muted', text: '(you)' }) : confirmButton('Delete', 'Delete user ' + u.name + '? ', async () => {
              try { await api('DELETE', '/users/' + enc(u.name)); refreshPage(); } catch (e) { showBanner(e.message); }
            }, 'small')));
        }), 'No users.'));
    },
  };
};

// ---------------------------------------------------------------- permissions

PAGES.permissions = function permissionsPage(main) {
  const body = el('div'), topic = el('div');
  const user = el('select', { required: true });
  const vh = vhostSelect('perm-vhost');
  const conf = el('input', { value: '.*', size: 20 }), write = el('input', { value: '.*', size: 20 }), read = el('input', { value: '.*', size: 20 });
  const tuser = el('select', { required: true });
  const tvh = vhostSelect('tperm-vhost');
  const tex = el('input', { value: 'amq.topic', size: 20 });
  const twrite = el('input', { value: '.*', size: 20 }), tread = el('input', { value: '.*', size: 20 });
  main.append(h1('Permissions'),
    section('Permissions', 'perm-list', body, el('h2', { text: 'Set permission' }),
      gridForm('set-permission', [['User', user], ['Virtual host', vh], ['Configure regexp', conf], ['Write regexp', write], ['Read regexp', read]],
        'Set permission', async () => {
          await api('PUT', '/permissions/' + enc(vh.value) + '/' + enc(user.value), { configure: conf.value, write: write.value, read: read.value });
          refreshPage();
          return 'Permission set.';
        })),
    section('Topic permissions', 'tperm-list', topic, el('h2', { text: 'Set topic permission' }),
      gridForm('set-topic-permission', [['User', tuser], ['Virtual host', tvh], ['Exchange', tex], ['Write regexp', twrite], ['Read regexp', tread]],
        'Set topic permission', async () => {
          await api('PUT', '/topic-permissions/' + enc(tvh.value) + '/' + enc(tuser.value), { exchange: tex.value, write: twrite.value, read: tread.value });
          refreshPage();
          return 'Topic permission set.';
        })));
  let usersLoaded = false;
  return {
    async refresh() {
      if (!usersLoaded) {
        const us = (await GET('/users?columns=name')).map(u => u.name);
        for (const s of [user, tuser]) replace(s, us.map(u => el('option', { value: u, text: u })));
        usersLoaded = true;
      }
      const [perms, tperms] = await Promise.all([GET('/permissions'), GET('/topic-permissions')]);
      const inVhost = x => !S.vhost || x.vhost === S.vhost;
      replace(body, table([th('User'), th('Virtual host'), th('Configure'), th('Write'), th('Read'), th('')],
        perms.filter(inVhost).map(x => el('tr', { 'data-user': x.user, 'data-vhost': x.vhost }, td(x.user), td(vhostLabel(x.vhost)),
          td(el('code', { text: x.configure })), td(el('code', { text: x.write })), td(el('code', { text: x.read })),
          td(confirmButton('Clear', 'Clear ' + x.user + "'s permission on " + vhostLabel(x.vhost) + '? ', async () => {
            try { await api('DELETE', '/permissions/' + enc(x.vhost) + '/' + enc(x.user)); refreshPage(); } catch (e) { showBanner(e.message); }
          }, 'small')))), 'No permissions.'));
      replace(topic, table([th('User'), th('Virtual host'), th('Exchange'), th('Write'), th('Read'), th('')],
        tperms.filter(inVhost).map(x => el('tr', null, td(x.user), td(vhostLabel(x.vhost)), td(x.exchange),
          td(el('code', { text: x.write })), td(el('code', { text: x.read })),
          td(confirmButton('Clear', 'Clear ' + x.user + "'s topic permissions on " + vhostLabel(x.vhost) + '? ', async () => {
            try { await api('DELETE', '/topic-permissions/' + enc(x.vhost) + '/' + enc(x.user)); refreshPage(); } catch (e) { showBanner(e.message); }
          }, 'small')))), 'No topic permissions.'));
    },
  };
};

// ---------------------------------------------------------------- policies

PAGES.policies = function policiesPage(main) {
  const body = el('div'), opBody = el('div');
  const mk = (id, base) => {
    const vh = vhostSelect(id + '-vhost');
    const name = el('input', { required: true, size: 30 });
    const pattern = el('input', { required: true, size: 30, placeholder: '^amq\\.' });
    const applyTo = el('select', null, ['all', 'queues', 'exchanges', 'classic_queues', 'quorum_queues', 'streams'].map(t => el('option', { value: t, text: t })));
    const prio = el('input', { type: 'number', value: 0 });
    const def = el('textarea', { rows: 3, placeholder: 'max-length = 1000\nmessage-ttl = 60000\n(key = value lines, or a JSON object)' });
    return gridForm(id, [['Virtual host', vh], ['Name', name], ['Pattern', pattern], ['Apply to', applyTo], ['Priority', prio], ['Definition', def]],
      'Add / update policy', async () => {
        await api('PUT', base + '/' + enc(vh.value) + '/' + enc(name.value), {
          pattern: pattern.value, 'apply-to': applyTo.value, priority: +prio.value, definition: parseArgs(def.value) });
        refreshPage();
        return 'Policy ' + name.value + ' saved.';
      });
  };
  const listOf = (rows, base) => table([th('Virtual host'), th('Name'), th('Pattern'), th('Apply to'), th('Definition'), th('Priority', 'num'), th('')],
    rows.map(x => el('tr', { 'data-name': x.name }, td(vhostLabel(x.vhost)), td(x.name), td(el('code', { text: x.pattern })), td(x['apply-to']),
      td(el('code', { text: fmtJSON(x.definition) }), 'wrap'), num(x.priority),
      td(confirmButton('Delete', 'Delete policy ' + x.name + '? ', async () => {
        try { await api('DELETE', base + '/' + enc(x.vhost) + '/' + enc(x.name)); refreshPage(); } catch (e) { showBanner(e.message); }
      }, 'small')))), 'No policies.');
  main.append(h1('Policies', S.vhost ? 'in ' + vhostLabel(S.vhost) : ''),
    section('User policies', 'pol-list', body, el('h2', { text: 'Add / update a policy' }), mk('add-policy', '/policies')),
    isAdmin() ? section('Operator policies', 'opol-list', opBody, el('h2', { text: 'Add / update an operator policy' }), mk('add-operator-policy', '/operator-policies')) : null);
  return {
    async refresh() {
      replace(body, listOf(await GET('/policies' + vhostPath()), '/policies'));
      if (isAdmin()) replace(opBody, listOf(await GET('/operator-policies' + vhostPath()), '/operator-policies'));
    },
  };
};

// ---------------------------------------------------------------- limits

const VHOST_LIMITS = ['max-connections', 'max-queues'];
const USER_LIMITS = ['max-connections', 'max-channels'];

PAGES.limits = function limitsPage(main) {
  const vbody = el('div'), ubody = el('div');
  const vh = vhostSelect('limit-vhost');
  const vname = el('select', null, VHOST_LIMITS.map(n => el('option', { value: n, text: n })));
  const vval = el('input', { type: 'number', required: true, min: -1, value: 100 });
  const user = el('select', { required: true });
  const uname = el('select', null, USER_LIMITS.map(n => el('option', { value: n, text: n })));
  const uval = el('input', { type: 'number', required: true, min: -1, value: 100 });
  const missing = what => el('p', { class: 'muted', text: 'This broker does not serve ' + what + '.' });
  const rowsOf = (list, who, base) => {
    const out = [];
    for (const x of list) for (const k of Object.keys(x.value || {})) {
      out.push(el('tr', { 'data-limit': x[who] + '/' + k }, td(who === 'vhost' ? vhostLabel(x[who]) : x[who]), td(k), num(x.value[k]),
        td(el('button', { type: 'button', class: 'small danger', text: 'Clear', onclick: async () => {
          try { await api('DELETE', base + '/' + enc(x[who]) + '/' + enc(k)); refreshPage(); } catch (e) { showBanner(e.message); }
        } }))));
    }
    return out;
  };
  main.append(h1('Limits'),
    section('Virtual host limits', 'lim-vhost', vbody, el('h2', { text: 'Set a virtual host limit' }),
      gridForm('set-vhost-limit', [['Virtual host', vh], ['Limit', vname], ['Value', vval]], 'Set limit', async () => {
        await api('PUT', '/vhost-limits/' + enc(vh.value) + '/' + enc(vname.value), { value: +vval.value });
        refreshPage();
        return 'Limit set (-1 means no limit).';
      })),
    section('User limits', 'lim-user', ubody, el('h2', { text: 'Set a user limit' }),
      gridForm('set-user-limit', [['User', user], ['Limit', uname], ['Value', uval]], 'Set limit', async () => {
        await api('PUT', '/user-limits/' + enc(user.value) + '/' + enc(uname.value), { value: +uval.value });
        refreshPage();
        return 'Limit set (-1 means no limit).';
      })));
  let usersLoaded = false;
  return {
    async refresh() {
      if (!usersLoaded) {
        replace(user, (await GET('/users?columns=name')).map(u => el('option', { value: u.name, text: u.name })));
        usersLoaded = true;
      }
      try {
        const vl = await GET('/vhost-limits' + vhostPath());
        replace(vbody, table([th('Virtual host'), th('Limit'), th('Value', 'num'), th('')], rowsOf(vl, 'vhost', '/vhost-limits'), 'No virtual host limits.'));
      } catch (e) {
        if (e.status !== 404) throw e;
        replace(vbody, missing('/api/vhost-limits'));
      }
      try {
        const ul = await GET('/user-limits');
        replace(ubody, table([th('User'), th('Limit'), th('Value', 'num'), th('')], rowsOf(ul, 'user', '/user-limits'), 'No user limits.'));
      } catch (e) {
        if (e.status !== 404) throw e;
        replace(ubody, missing('/api/user-limits'));
      }
    },
  };
};

// ---------------------------------------------------------------- definitions

PAGES.definitions = function definitionsPage(main) {
  const exVh = vhostSelect('export-vhost', true);
  exVh.value = S.vhost;
  const imVh = vhostSelect('import-vhost', true);
  imVh.value = S.vhost;
  const file = el('input', { type: 'file', accept: '.json,application/json', id: 'import-file', required: true });
  const link = el('a', { hidden: true, id: 'export-link' });
  main.append(h1('Definitions'),
    el('p', { class: 'muted', text: 'Export and import users, virtual hosts, permissions, policies, queues, exchanges and bindings in RabbitMQ\'s definitions format: a RabbitMQ export loads into Warren and back.' }),
    section('Export definitions', 'def-export', gridForm('export-definitions', [['Virtual host', exVh]], 'Download broker definitions', async () => {
      const d = await GET('/definitions' + (exVh.value ? '/' + enc(exVh.value) : ''));
      const blob = new Blob([JSON.stringify(d, null, 2)], { type: 'application/json' });
      if (link.href) URL.revokeObjectURL(link.href);
      const stamp = new Date().toISOString().slice(0, 10);
      link.href = URL.createObjectURL(blob);
      link.download = 'warren_' + (exVh.value ? exVh.value.replace(/[^A-Za-z0-9_.-]/g, '_') + '_' : '') + stamp + '.json';
      link.textContent = link.download;
      link.hidden = false;
      link.click();
      const n = k => (d[k] || []).length;
      return 'Exported ' + n('queues') + ' queues, ' + n('exchanges') + ' exchanges, ' + n('bindings') + ' bindings, ' +
        n('users') + ' users, ' + n('vhosts') + ' vhosts, ' + n('policies') + ' policies.';
    }), link),
    section('Import definitions', 'def-import', gridForm('import-definitions', [['Definitions file', file], ['Virtual host', imVh]], 'Upload broker definitions', async () => {
      const f = file.files[0];
      if (!f) throw new Error('Choose a definitions file first.');
      const text = await f.text();
      parseJSONField(text, 'The file');
      await api('POST', '/definitions' + (imVh.value ? '/' + enc(imVh.value) : ''), text);
      await loadVHosts();
      return 'Definitions imported from ' + f.name + '.';
    })));
  return null;
};

function notFoundPage(main) {
  main.append(h1('Not found'), el('p', null, 'No such page. ', el('a', { href: '#/', text: 'Back to the overview' }), '.'));
  return null;
}

start();
