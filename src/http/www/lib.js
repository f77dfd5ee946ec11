// lib.js - what every page uses: the API client (basic auth from the
// login form, kept in sessionStorage), DOM building, number and age
// formats, and a sortable table.

const KEY = 'warren.auth';

export class ApiError extends Error {
  constructor(status, error, reason, path) {
    super(reason || error || ('HTTP ' + status));
    this.status = status;
    this.error = error;
    this.reason = reason;
    this.path = path;
  }
  // An endpoint this broker does not serve (yet): RabbitMQ's 404 for a
  // path no route has, a 405 for a path whose GET is not there, or the
  // empty 400 RabbitMQ's router gives a path it cannot parse (the browse
  // endpoint, warren's own, on RabbitMQ).
  get missing() {
    return (this.status === 404 && this.error === 'Object Not Found') || this.status === 405 ||
      (this.status === 400 && !this.error);
  }
}

export const session = {
  get auth() { return sessionStorage.getItem(KEY); },
  get user() {
    const a = this.auth;
    if (!a) return null;
    try { return atob(a).split(':')[0]; } catch (e) { return null; }
  },
  login(user, pass) {
    // btoa takes Latin-1: UTF-8 bytes first, as browsers send them
    const bytes = new TextEncoder().encode(user + ':' + pass);
    sessionStorage.setItem(KEY, btoa(String.fromCharCode(...bytes)));
  },
  logout() { sessionStorage.removeItem(KEY); },
};

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// One API request.  JSON in and out; an error status is an ApiError with
// RabbitMQ's {"error", "reason"}.  credentials 'omit': the browser's own
// login dialog never opens, the form is the only one.
export async function api(method, path, body, headers = {}) {
  const h = Object.assign({}, headers);
  if (session.auth) h.Authorization = 'Basic ' + session.auth;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  const r = await fetch(path, {
    method, headers: h, credentials: 'omit', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!r.ok) {
    const err = new ApiError(r.status, data && data.error, data && typeof data.reason === 'string'
      ? data.reason : (data && data.reason ? JSON.stringify(data.reason) : text.slice(0, 200)), path);
    if (r.status === 401 && !path.startsWith('/api/whoami')) onUnauthorized(err);
    throw err;
  }
  return data;
}
export const get = (path) => api('GET', path);

// Path segments, each encoded on its own (the vhost "/" is %2F).
export function p(...segs) {
  return segs.map((s) => '/' + encodeURIComponent(s)).join('');
}

// h('td', {class: 'num', onclick: fn}, 'text', node, ...)
export function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    e.append(kid instanceof Node ? kid : String(kid));
  }
  return e;
}

export function toast(text, bad) {
  const t = document.getElementById('toast');
  t.textContent = text;
  t.className = bad ? 'bad' : '';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, bad ? 6000 : 3000);
}

// A dotted path into an object ("message_stats.publish_details.rate").
export function dig(o, path) {
  return path.split('.').reduce((a, k) => (a === undefined || a === null ? undefined : a[k]), o);
}

export function num(v) {
  if (v === undefined || v === null || v === '') return '-';
  return Number(v).toLocaleString('en-US');
}

export function rate(v) {
  if (v === undefined || v === null) return '-';
  const n = Number(v);
  return (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n === 0 ? 0 : 1)) + '/s';
}

export function bytes(v) {
  if (v === undefined || v === null) return '-';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = Number(v), i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(n >= 100 ? 0 : 1) : Math.round(n)) + ' ' + u[i];
}

// A duration in ms: "850 ms", "12.5 s", "4 m 10 s", "3 h 2 m", "2 d 1 h".
export function duration(ms) {
  if (ms === undefined || ms === null || ms < 0 || Number.isNaN(ms)) return '-';
  if (ms < 1000) return Math.round(ms) + ' ms';
  const s = ms / 1000;
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' m ' + Math.floor(s % 60) + ' s';
  const hr = Math.floor(m / 60);
  if (hr < 24) return hr + ' h ' + (m % 60) + ' m';
  return Math.floor(hr / 24) + ' d ' + (hr % 24) + ' h';
}

// A time RabbitMQ gives as ms since the epoch or as an ISO date: ms.
export function epochMs(v) {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'number') return v;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : t;
}

// warren's ages of the oldest ready / unacked message of a queue, in ms:
// a field named oldest_<which>... in ms (suffix _ms) or in seconds
// (suffix _s or _seconds).  null: not reported (RabbitMQ has none).
export function oldestAge(q, which) {
  for (const [k, v] of Object.entries(q)) {
    if (!k.startsWith('oldest_' + which) || v === null || typeof v !== 'number') continue;
    if (k.endsWith('_ms')) return v;
    if (k.endsWith('_s') || k.endsWith('_seconds')) return v * 1000;
    if (k.endsWith('_us')) return v / 1000;
    return v;
  }
  return null;
}

export function ageCell(ms) {
  const cls = ms === null ? 'muted' : ms > 600000 ? 'age-bad' : ms > 60000 ? 'age-warn' : '';
  return h('td', { class: 'num ' + cls }, ms === null ? '-' : duration(ms));
}

// A note in place of a section whose endpoint this broker lacks.
export function missingNote(err, what) {
  return h('p', { class: 'note missing-endpoint', dataset: { path: err.path || '' } },
    `${what}: this broker does not serve ${(err.path || '').split('?')[0]} yet.`);
}

export function errorNote(err) {
  if (err.missing) return missingNote(err, 'Not available');
  return h('p', { class: 'note' }, `Error ${err.status || ''}: ${err.message}`);
}

// A table whose columns sort on a click: cols [{key, label, num, cell(row),
// sort(row) -> value, nosort}]; state {sort, desc} kept by the caller so
// that it survives refreshes.  onsort(key) lets the caller sort on the
// server instead.
export function table(cols, rows, state, onsort) {
  const head = h('tr', null, cols.map((c) => {
    const sorted = state && state.sort === c.key;
    return h('th', {
      class: [c.num ? 'num' : '', c.nosort ? '' : 'sortable', sorted ? 'sorted' : '', sorted && state.desc ? 'desc' : '']
        .join(' ').trim(),
      dataset: { key: c.key },
      onclick: c.nosort || !state ? null : () => {
        if (state.sort === c.key) state.desc = !state.desc;
        else { state.sort = c.key; state.desc = !!c.num; }
        onsort(c.key);
      },
    }, c.label);
  }));
  let shown = rows;
  // sorted here too: a broker that pages sorts the page the same way
  if (state && state.sort) {
    const c = cols.find((x) => x.key === state.sort);
    if (c) {
      const val = c.sort || ((r) => dig(r, c.key));
      shown = rows.slice().sort((a, b) => {
        const x = val(a), y = val(b);
        const d = (x === undefined || x === null) - (y === undefined || y === null) ||
          (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y)));
        return state.desc ? -d : d;
      });
    }
  }
  const body = h('tbody', null, shown.map((r) => h('tr', null, cols.map((c) => {
    const v = c.cell ? c.cell(r) : dig(r, c.key);
    return v instanceof Node && v.tagName === 'TD' ? v : h('td', { class: c.num ? 'num' : '' }, v === undefined ? '-' : v);
  }))));
  if (!shown.length) body.append(h('tr', null, h('td', { colspan: cols.length, class: 'muted' }, 'None.')));
  return h('div', { class: 'tablewrap' }, h('table', null, h('thead', null, head), body));
}

export function features(o) {
  return [
    o.durable ? h('span', { class: 'badge', title: 'durable' }, 'D') : null,
    o.auto_delete ? h('span', { class: 'badge', title: 'auto-delete' }, 'AD') : null,
    o.exclusive ? h('span', { class: 'badge warn', title: 'exclusive' }, 'Excl') : null,
    o.internal ? h('span', { class: 'badge', title: 'internal' }, 'I') : null,
    ...Object.keys(o.arguments || {}).map((k) => h('span', { class: 'badge', title: k + ' = ' + JSON.stringify(o.arguments[k]) },
      k.replace(/^x-/, ''))),
  ];
}

export function state(s) {
  if (!s) return '-';
  const cls = s === 'running' ? 'good' : s === 'blocked' || s === 'flow' || s === 'blocking' ? 'warn' : 'bad';
  return h('span', { class: 'badge ' + cls }, s);
}
