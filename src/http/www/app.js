// app.js - the dashboard's shell: the login form, the hash router
// (#/queues, #/queues/<vhost>/<name>, ...) and the refresh timer.  The
// pages are in pages.js, the API client in lib.js, the charts in chart.js.

import { get, session, setUnauthorizedHandler, h } from './lib.js';
import * as pages from './pages.js';

const routes = [
  [/^\/?$/, pages.overview, 'overview'],
  [/^\/queues\/?$/, pages.queues, 'queues'],
  [/^\/queues\/([^/]+)\/([^/]+)$/, pages.queuePage, 'queues'],
  [/^\/exchanges\/?$/, pages.exchanges, 'exchanges'],
  [/^\/exchanges\/([^/]+)\/([^/]+)$/, pages.exchangePage, 'exchanges'],
  [/^\/connections\/?$/, pages.connections, 'connections'],
  [/^\/channels\/?$/, pages.channels, 'channels'],
  [/^\/admin\/?$/, pages.admin, 'admin'],
];

const main = document.getElementById('main');
let current = null;      // {refresh} of the page shown
let busy = false;        // a refresh is running: the timer skips a tick
let timer = null;
let generation = 0;      // bumped on every page change

async function refresh() {
  if (!current || busy) return;
  busy = true;
  const mine = current;
  try {
    await mine.refresh();
    document.getElementById('refresh-error')?.remove();
  } catch (e) {
    // a page's own errors are notes in the page; this is a bug: said in
    // the page (once), not thrown at the console
    if (!document.getElementById('refresh-error')) {
      main.prepend(h('p', { class: 'note', id: 'refresh-error' }, 'Refresh failed: ' + e.message));
    }
  } finally {
    busy = false;
  }
}

function route() {
  if (!session.auth) return;
  const path = location.hash.replace(/^#/, '') || '/';
  let found = null;
  for (const [re, fn, nav] of routes) {
    const m = path.match(re);
    if (m) { found = [fn, m.slice(1).map(decodeURIComponent), nav]; break; }
  }
  generation++;
  if (!found) {
    current = null;
    main.replaceChildren(h('h1', null, 'Not found'), h('p', null, h('a', { href: '#/' }, 'Back to the overview')));
    return;
  }
  const [fn, params, nav] = found;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === nav);
  main.replaceChildren();
  current = fn(main, params);
  busy = false;
  refresh();
}

function startTimer() {
  clearInterval(timer);
  const s = Number(document.getElementById('refresh').value);
  sessionStorage.setItem('warren.refresh', String(s));
  if (s > 0) timer = setInterval(refresh, s * 1000);
}

function showLogin(message) {
  document.getElementById('login').hidden = false;
  document.getElementById('top').hidden = true;
  main.hidden = true;
  document.getElementById('login-error').textContent = message || '';
  clearInterval(timer);
  current = null;
  document.getElementById('login-user').focus();
}

function showApp(user) {
  document.getElementById('login').hidden = true;
  document.getElementById('top').hidden = false;
  main.hidden = false;
  document.getElementById('who').textContent = user;
  startTimer();
  route();
}

async function checkLogin() {
  try {
    const me = await get('/api/whoami');
    showApp(me.name);
  } catch (e) {
    session.logout();
    showLogin(e.status === 401 ? 'Login failed: wrong username or password, or a user not allowed to log in from here.'
      : 'Cannot reach the API: ' + e.message);
  }
}

document.getElementById('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  session.login(document.getElementById('login-user').value, document.getElementById('login-pass').value);
  document.getElementById('login-pass').value = '';
  checkLogin();
});
document.getElementById('logout').addEventListener('click', () => {
  session.logout();
  showLogin('Logged out.');
});
const refreshSel = document.getElementById('refresh');
const savedRefresh = sessionStorage.getItem('warren.refresh');
if (savedRefresh !== null && [...refreshSel.options].some((o) => o.value === savedRefresh)) refreshSel.value = savedRefresh;
refreshSel.addEventListener('change', () => { startTimer(); refresh(); });
window.addEventListener('hashchange', route);
setUnauthorizedHandler(() => { session.logout(); showLogin('Your session ended: log in again.'); });

if (session.auth) checkLogin();
else showLogin();
