// pages.js - one function per page: it builds the page's skeleton once
// in `root` and returns {refresh}, which the app calls at once and then
// on every tick of the refresh timer; refresh replaces only the data
// parts, so forms and filters keep what the user typed.

import {
  api, get, p, h, toast, dig, num, rate, bytes, duration, epochMs, oldestAge, ageCell, errorNote,
  table, features, state, ApiError,
} from './lib.js';
import { drawChart, ratePoints, valuePoints } from './chart.js';

const COLORS = { publish: '#1f77b4', deliver: '#2ca02c', ack: '#9467bd', redeliver: '#d62728',
  ready: '#e8a33d', unacked: '#6c8ebf' };
const vhostSeg = (v) => encodeURIComponent(v);
const queueHref = (q) => '#/queues/' + vhostSeg(q.vhost) + '/' + encodeURIComponent(q.name);
const exchangeHref = (vh, name) => '#/exchanges/' + vhostSeg(vh) + '/' + encodeURIComponent(name || 'amq.default');
const r = (o, key) => dig(o, key);

// Fill `slot` with what fn builds, or with a note when the request fails.
// (a network failure, the broker gone, is a note too: nothing is thrown
// at the console).
async function fill(slot, fn) {
  try {
    slot.replaceChildren(...[].concat(await fn()));
  } catch (e) {
    slot.replaceChildren(e instanceof ApiError ? errorNote(e) : h('p', { class: 'note' }, 'Request failed: ' + e.message));
  }
}

function card(title, ...kids) {
  return h('section', { class: 'card' }, title ? h('h2', null, title) : null, ...kids);
}

function kv(pairs) {
  return h('dl', { class: 'kv' }, pairs.filter(Boolean).flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
}

function confirmAction(text) {
  return window.confirm(text);
}

// ------------------------------------------------------------- overview

export function overview(root) {
  const tiles = h('div', { class: 'tiles', id: 'totals' });
  const rateCanvas = h('canvas', { class: 'chart', id: 'chart-rates' });
  const rateLegend = h('div', { class: 'legend' });
  const lenCanvas = h('canvas', { class: 'chart', id: 'chart-lengths' });
  const lenLegend = h('div', { class: 'legend' });
  const node = h('div');
  const note = h('div');
  root.replaceChildren(
    h('h1', null, 'Overview'), note, tiles,
    h('div', { class: 'grid two' },
      card('Message rates, last 10 minutes', rateCanvas, rateLegend),
      card('Queued messages, last 10 minutes', lenCanvas, lenLegend)),
    card('Node', node));

  const tile = (k, v, id) => h('div', { class: 'tile', id }, h('div', { class: 'v' }, v), h('div', { class: 'k' }, k));
  return {
    async refresh() {
      let o;
      try {
        o = await get('/api/overview?lengths_age=600&lengths_incr=5&msg_rates_age=600&msg_rates_incr=5');
        note.replaceChildren();
      } catch (e) {
        note.replaceChildren(e instanceof ApiError ? errorNote(e) : h('p', { class: 'note' }, 'Request failed: ' + e.message));
        return;
      }
      const qt = o.queue_totals || {}, ot = o.object_totals || {}, ms = o.message_stats || {};
      tiles.replaceChildren(
        tile('Ready', num(qt.messages_ready), 'tile-ready'),
        tile('Unacked', num(qt.messages_unacknowledged), 'tile-unacked'),
        tile('Messages', num(qt.messages)),
        tile('Publish', rate(r(ms, 'publish_details.rate'))),
        tile('Deliver / get', rate(r(ms, 'deliver_get_details.rate'))),
        tile('Queues', num(ot.queues), 'tile-queues'),
        tile('Consumers', num(ot.consumers)),
        tile('Connections', num(ot.connections)),
        tile('Channels', num(ot.channels)),
        tile('Exchanges', num(ot.exchanges)));
      drawChart(rateCanvas, [
        { label: 'Publish', color: COLORS.publish, points: ratePoints(ms.publish_details) },
        { label: 'Deliver / get', color: COLORS.deliver, points: ratePoints(ms.deliver_get_details) },
        { label: 'Ack', color: COLORS.ack, points: ratePoints(ms.ack_details) },
        { label: 'Redeliver', color: COLORS.redeliver, points: ratePoints(ms.redeliver_details) },
      ], { unit: '/s', legend: rateLegend });
      drawChart(lenCanvas, [
        { label: 'Ready', color: COLORS.ready, points: valuePoints(qt.messages_ready_details) },
        { label: 'Unacked', color: COLORS.unacked, points: valuePoints(qt.messages_unacknowledged_details) },
      ], { legend: lenLegend });
      await fill(node, async () => {
        const n = (await get('/api/nodes'))[0] || {};
        const alarms = [n.mem_alarm ? 'memory' : null, n.disk_free_alarm ? 'disk' : null].filter(Boolean);
        return kv([
          ['Node', n.name], ['Product', `${o.product_name || 'RabbitMQ'} ${o.product_version || o.rabbitmq_version || ''}`],
          ['API dialect', 'RabbitMQ ' + (o.management_version || '?')],
          ['Uptime', duration(n.uptime)],
          ['Memory', `${bytes(n.mem_used)} of ${bytes(n.mem_limit)} (limit)`],
          ['Disk free', `${bytes(n.disk_free)} (limit ${bytes(n.disk_free_limit)})`],
          ['File descriptors', `${num(n.fd_used)} of ${num(n.fd_total)}`],
          ['Alarms', alarms.length ? h('span', { class: 'badge bad' }, alarms.join(', ')) : h('span', { class: 'badge good' }, 'none')],
          ['Listeners', (o.listeners || []).map((l) => `${l.protocol} ${l.ip_address}:${l.port}`).join(', ')],
        ]);
      });
    },
  };
}

// --------------------------------------------------------------- queues

export function queues(root) {
  const st = { sort: 'name', desc: false, page: 1, filter: '', regex: false };
  const slot = h('div', { id: 'queues-table' });
  const count = h('span', { class: 'muted' });
  const filter = h('input', { id: 'queue-filter', type: 'search', placeholder: 'Filter by name', size: 30 });
  const regex = h('input', { type: 'checkbox', id: 'queue-regex' });
  const pager = h('div', { class: 'pager' });
  let timer = null;
  filter.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { st.filter = filter.value; st.page = 1; page.refresh(); }, 250);
  });
  regex.addEventListener('change', () => { st.regex = regex.checked; st.page = 1; page.refresh(); });

  const addName = h('input', { id: 'new-queue', placeholder: 'name', required: true });
  const addDurable = h('input', { type: 'checkbox', checked: true });
  const addForm = h('form', { class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api('PUT', '/api/queues/%2F' + p(addName.value), { durable: addDurable.checked, auto_delete: false, arguments: {} });
      toast(`Queue '${addName.value}' declared`);
      addName.value = '';
      page.refresh();
    } catch (err) { toast(err.message, true); }
  } }, h('label', null, 'Name', addName), h('label', null, 'Durable', addDurable), h('button', { type: 'submit' }, 'Add queue'));

  root.replaceChildren(
    h('h1', null, 'Queues'),
    card(null, h('div', { class: 'toolbar' }, filter, h('label', { class: 'muted' }, regex, ' regex'),
      h('span', { class: 'grow' }), count), slot, pager),
    card('Add a queue (vhost /)', addForm));

  const cols = [
    { key: 'vhost', label: 'Vhost' },
    { key: 'name', label: 'Name', cell: (q) => h('td', null, h('a', { href: queueHref(q), class: 'queue-link' }, q.name)) },
    { key: 'features', label: 'Features', nosort: true, cell: (q) => h('td', null, features(q)) },
    { key: 'state', label: 'State', cell: (q) => h('td', null, state(q.state)) },
    { key: 'messages_ready', label: 'Ready', num: true, cell: (q) => h('td', { class: 'num ready' }, num(q.messages_ready)) },
    { key: 'messages_unacknowledged', label: 'Unacked', num: true,
      cell: (q) => h('td', { class: 'num unacked' }, num(q.messages_unacknowledged)) },
    { key: 'messages', label: 'Total', num: true, cell: (q) => h('td', { class: 'num' }, num(q.messages)) },
    { key: 'consumers', label: 'Consumers', num: true, cell: (q) => h('td', { class: 'num consumers' }, num(q.consumers)) },
    { key: 'message_stats.publish_details.rate', label: 'Incoming', num: true,
      cell: (q) => h('td', { class: 'num' }, rate(r(q, 'message_stats.publish_details.rate'))) },
    { key: 'message_stats.deliver_get_details.rate', label: 'Deliver / get', num: true,
      cell: (q) => h('td', { class: 'num' }, rate(r(q, 'message_stats.deliver_get_details.rate'))) },
    { key: 'message_stats.ack_details.rate', label: 'Ack', num: true,
      cell: (q) => h('td', { class: 'num' }, rate(r(q, 'message_stats.ack_details.rate'))) },
    { key: 'oldest_ready_age_ms', label: 'Oldest ready', num: true, sort: (q) => oldestAge(q, 'ready'),
      cell: (q) => ageCell(oldestAge(q, 'ready')) },
    { key: 'oldest_unacked_age_ms', label: 'Oldest unacked', num: true, sort: (q) => oldestAge(q, 'unacked'),
      cell: (q) => ageCell(oldestAge(q, 'unacked')) },
  ];
  const PAGE = 100;
  const page = {
    async refresh() {
      await fill(slot, async () => {
        // RabbitMQ's paged form; a plain list (a broker without
        // pagination) is filtered and sorted here
        const serverSort = '&sort=' + encodeURIComponent(st.sort) + '&sort_reverse=' + st.desc;
        const d = await get(`/api/queues?page=${st.page}&page_size=${PAGE}&name=${encodeURIComponent(st.filter)}` +
          `&use_regex=${st.regex}&pagination=true${serverSort}`);
        let items;
        if (Array.isArray(d)) {
          let re = null;
          try { re = st.regex && st.filter ? new RegExp(st.filter) : null; } catch (e) { re = /$^/; }
          items = d.filter((q) => (re ? re.test(q.name) : q.name.includes(st.filter)));
          count.textContent = `${num(items.length)} of ${num(d.length)} queues`;
          pager.replaceChildren();
          return table(cols, items, st, () => page.refresh());
        }
        items = d.items || [];
        const pages = d.page_count || 1;
        count.textContent = `${num(d.filtered_count)} of ${num(d.total_count)} queues`;
        pager.replaceChildren(
          h('button', { class: 'secondary small', disabled: st.page <= 1, onclick: () => { st.page--; page.refresh(); } }, 'Previous'),
          `page ${st.page} of ${pages}`,
          h('button', { class: 'secondary small', disabled: st.page >= pages, onclick: () => { st.page++; page.refresh(); } }, 'Next'));
        return table(cols, items, st, () => page.refresh());
      });
    },
  };
  return page;
}

// ----------------------------------------------------------- queue page

export function queuePage(root, [vhost, name]) {
  const base = '/api/queues' + p(vhost, name);
  const head = h('div');
  const details = h('div');
  const consumers = h('div', { id: 'queue-consumers' });
  const bindings = h('div', { id: 'queue-bindings' });
  const browseSlot = h('div', { id: 'browse' });
  const browseCount = h('input', { type: 'number', min: 1, max: 1000, value: 20, id: 'browse-count', size: 5 });
  let browseState = 'ready';
  const tabReady = h('button', { type: 'button', class: 'on', id: 'browse-ready' }, 'Ready');
  const tabUnacked = h('button', { type: 'button', id: 'browse-unacked' }, 'Unacked');
  const browse = async () => {
    tabReady.className = browseState === 'ready' ? 'on' : '';
    tabUnacked.className = browseState === 'unacked' ? 'on' : '';
    await fill(browseSlot, async () => {
      const msgs = await get(`${base}/messages?state=${browseState}&count=${Number(browseCount.value) || 20}`);
      return browseTable(msgs, browseState);
    });
  };
  tabReady.addEventListener('click', () => { browseState = 'ready'; browse(); });
  tabUnacked.addEventListener('click', () => { browseState = 'unacked'; browse(); });

  const payload = h('textarea', { id: 'publish-payload', rows: 3, cols: 60 }, 'Hello from the dashboard');
  const persistent = h('input', { type: 'checkbox', id: 'publish-persistent' });
  const ctype = h('input', { id: 'publish-content-type', value: 'text/plain', size: 16 });
  const publishForm = h('form', { class: 'stack', id: 'publish-form', onsubmit: async (e) => {
    e.preventDefault();
    const props = { content_type: ctype.value || undefined, delivery_mode: persistent.checked ? 2 : 1 };
    try {
      const res = await api('POST', '/api/exchanges' + p(vhost, 'amq.default') + '/publish',
        { routing_key: name, payload: payload.value, payload_encoding: 'string', properties: props });
      toast(res && res.routed ? 'Published' : 'Published, but routed to no queue', !(res && res.routed));
      page.refresh();
    } catch (err) { toast(err.message, true); }
  } }, h('label', null, 'Payload', payload), h('div', { class: 'toolbar' },
    h('label', null, 'Content type ', ctype), h('label', null, persistent, ' persistent'),
    h('button', { type: 'submit' }, 'Publish to this queue')));

  const bindX = h('input', { placeholder: 'exchange', required: true, id: 'bind-exchange' });
  const bindKey = h('input', { placeholder: 'routing key', id: 'bind-key' });
  const bindForm = h('form', { class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/api/bindings' + p(vhost) + '/e' + p(bindX.value) + '/q' + p(name),
        { routing_key: bindKey.value, arguments: {} });
      toast('Bound');
      page.refresh();
    } catch (err) { toast(err.message, true); }
  } }, bindX, bindKey, h('button', { type: 'submit', class: 'secondary' }, 'Bind'));

  const purge = h('button', { class: 'danger', id: 'purge', onclick: async () => {
    if (!confirmAction(`Purge every ready message of '${name}'?`)) return;
    try {
      await api('DELETE', base + '/contents');
      toast(`Purged '${name}'`);
      page.refresh();
    } catch (err) { toast(err.message, true); }
  } }, 'Purge');
  const del = h('button', { class: 'danger', id: 'delete', onclick: async () => {
    if (!confirmAction(`Delete the queue '${name}' and its messages?`)) return;
    try {
      await api('DELETE', base);
      toast(`Deleted '${name}'`);
      location.hash = '#/queues';
    } catch (err) { toast(err.message, true); }
  } }, 'Delete');

  root.replaceChildren(
    h('p', { class: 'muted' }, h('a', { href: '#/queues' }, 'Queues'), ` / ${vhost} /`),
    h('div', { class: 'toolbar' }, h('h1', { class: 'grow', id: 'queue-name' }, name), purge, del),
    head,
    h('div', { class: 'grid two' }, card('Details', details), card('Consumers', consumers)),
    card('Browse messages', h('p', { class: 'muted' }, 'Without taking them: the queue is left as it is.'),
      h('div', { class: 'toolbar' }, h('div', { class: 'tabs' }, tabReady, tabUnacked), h('label', { class: 'muted' }, 'at most ', browseCount),
        h('button', { type: 'button', class: 'secondary', id: 'browse-go', onclick: browse }, 'Browse')), browseSlot),
    h('div', { class: 'grid two' }, card('Bindings', bindings, bindForm), card('Publish a message', publishForm)));

  const page = {
    async refresh() {
      let q;
      try {
        q = await get(base);
        head.replaceChildren();
      } catch (e) {
        head.replaceChildren(!(e instanceof ApiError) ? h('p', { class: 'note' }, 'Request failed: ' + e.message)
          : e.status === 404 && e.error !== 'Object Not Found'
            ? h('p', { class: 'note' }, `No queue '${name}' in vhost '${vhost}'.`) : errorNote(e));
        return;
      }
      const ms = q.message_stats || {};
      details.replaceChildren(kv([
        ['Features', features(q)], ['State', state(q.state)],
        ['Ready', h('span', { id: 'q-ready' }, num(q.messages_ready))],
        ['Unacked', h('span', { id: 'q-unacked' }, num(q.messages_unacknowledged))],
        ['Total', num(q.messages)], ['Consumers', num(q.consumers)],
        ['Message bytes', bytes(q.message_bytes)], ['Memory', bytes(q.memory)],
        ['Publish', rate(r(ms, 'publish_details.rate'))], ['Deliver / get', rate(r(ms, 'deliver_get_details.rate'))],
        ['Ack', rate(r(ms, 'ack_details.rate'))], ['Redeliver', rate(r(ms, 'redeliver_details.rate'))],
        ['Oldest ready', duration(oldestAge(q, 'ready'))], ['Oldest unacked', duration(oldestAge(q, 'unacked'))],
        q.idle_since ? ['Idle since', String(q.idle_since)] : null,
        q.owner_pid_details ? ['Owner', r(q, 'owner_pid_details.name')] : null,
      ]));
      await fill(consumers, async () => {
        const list = q.consumer_details || (await get('/api/consumers' + p(vhost)))
          .filter((c) => c.queue && c.queue.name === name);
        return table([
          { key: 'consumer_tag', label: 'Tag', cell: (c) => h('td', { class: 'mono' }, c.consumer_tag) },
          { key: 'channel_details.name', label: 'Channel' },
          { key: 'ack_required', label: 'Ack', cell: (c) => h('td', null, c.ack_required ? 'manual' : 'auto') },
          { key: 'prefetch_count', label: 'Prefetch', num: true },
          { key: 'active', label: 'Active', cell: (c) => h('td', null, c.active === false ? 'waiting' : 'yes') },
        ], list, null);
      });
      await fill(bindings, async () => {
        const list = await get(base + '/bindings');
        return table([
          { key: 'source', label: 'From', cell: (b) => h('td', null, h('a', { href: exchangeHref(vhost, b.source) }, b.source || '(default)')) },
          { key: 'routing_key', label: 'Routing key', cell: (b) => h('td', { class: 'mono' }, b.routing_key) },
          { key: 'arguments', label: 'Arguments', cell: (b) => h('td', { class: 'mono' }, JSON.stringify(b.arguments || {})) },
          { key: 'x', label: '', cell: (b) => h('td', null, b.source === '' ? null : h('button', { class: 'danger small', onclick: async () => {
            try {
              await api('DELETE', '/api/bindings' + p(vhost) + '/e' + p(b.source) + '/q' + p(name) + p(b.properties_key));
              toast('Unbound');
              page.refresh();
            } catch (err) { toast(err.message, true); }
          } }, 'Unbind')) },
        ], list, null);
      });
    },
  };
  return page;
}

function payloadCell(m) {
  const more = m.payload_bytes !== undefined && m.payload !== undefined && m.payload_encoding === 'string' &&
    m.payload_bytes > new TextEncoder().encode(m.payload).length ? ` (${num(m.payload_bytes)} bytes, cut)` : '';
  if (m.payload === null || m.payload === undefined) {
    return h('td', { class: 'muted' }, m.payload_encoding === 'unreadable' ? '(body not readable)' : '-');
  }
  return h('td', null, h('pre', null, String(m.payload)),
    h('span', { class: 'muted' }, (m.payload_encoding && m.payload_encoding !== 'string' ? m.payload_encoding + ' ' : '') + more));
}

function browseTable(msgs, which) {
  const list = Array.isArray(msgs) ? msgs : (msgs && (msgs.messages || msgs.items)) || [];
  const cols = [
    { key: 'n', label: '#', num: true, cell: (m) => h('td', { class: 'num' }, list.indexOf(m) + 1) },
    { key: 'routing_key', label: 'Routing key', cell: (m) => h('td', { class: 'mono' },
      (m.exchange ? m.exchange + ' / ' : '') + (m.routing_key === undefined ? '' : m.routing_key)) },
    { key: 'redelivered', label: 'Redelivered', cell: (m) => h('td', null, m.redelivered ? h('span', { class: 'badge warn' }, 'yes') : 'no') },
    { key: 'properties', label: 'Properties', cell: (m) => (Object.keys(m.properties || {}).length
      ? h('td', null, h('pre', null, JSON.stringify(m.properties, null, 1))) : h('td', { class: 'muted' }, 'none')) },
    { key: 'payload', label: 'Payload', cell: payloadCell },
  ];
  if (which === 'ready') {
    cols.push({ key: 'age_ms', label: 'Age', num: true, cell: (m) => ageCell(typeof m.age_ms === 'number' ? m.age_ms : null) });
  } else {
    // who holds it: warren's connection, channel, consumer tag, delivery
    // tag, and for how long (unacked_for_ms; or since, a time)
    const channelNo = (m) => (typeof m.channel === 'object' && m.channel ? m.channel.number : m.channel);
    const heldFor = (m) => {
      if (typeof m.unacked_for_ms === 'number') return m.unacked_for_ms;
      const t = epochMs(m.since);
      return t === null ? null : Date.now() - t;
    };
    cols.push(
      { key: 'connection', label: 'Held by', cell: (m) => h('td', { class: 'mono' },
        `${m.connection || '-'}${channelNo(m) === undefined ? '' : ' (' + channelNo(m) + ')'}`) },
      { key: 'consumer_tag', label: 'Consumer', cell: (m) => h('td', { class: 'mono' }, m.consumer_tag || '-') },
      { key: 'delivery_tag', label: 'Delivery tag', num: true },
      { key: 'unacked_for_ms', label: 'Unacked for', num: true, cell: (m) => ageCell(heldFor(m)) });
  }
  return [h('p', { class: 'muted', id: 'browse-summary' }, `${list.length} ${which} message${list.length === 1 ? '' : 's'} shown.`),
    table(cols, list, null)];
}

// ------------------------------------------------------------ exchanges

export function exchanges(root) {
  const st = { sort: 'name', desc: false };
  const slot = h('div', { id: 'exchanges-table' });
  root.replaceChildren(h('h1', null, 'Exchanges'), card(null, slot));
  const cols = [
    { key: 'vhost', label: 'Vhost' },
    { key: 'name', label: 'Name', cell: (x) => h('td', null, h('a', { href: exchangeHref(x.vhost, x.name) }, x.name || '(AMQP default)')) },
    { key: 'type', label: 'Type' },
    { key: 'features', label: 'Features', nosort: true, cell: (x) => h('td', null, features(x)) },
    { key: 'message_stats.publish_in_details.rate', label: 'In', num: true,
      cell: (x) => h('td', { class: 'num' }, rate(r(x, 'message_stats.publish_in_details.rate'))) },
    { key: 'message_stats.publish_out_details.rate', label: 'Out', num: true,
      cell: (x) => h('td', { class: 'num' }, rate(r(x, 'message_stats.publish_out_details.rate'))) },
  ];
  const page = {
    async refresh() {
      await fill(slot, async () => {
        const d = await get('/api/exchanges');
        return table(cols, Array.isArray(d) ? d : d.items || [], st, () => page.refresh());
      });
    },
  };
  return page;
}

export function exchangePage(root, [vhost, name]) {
  const base = '/api/exchanges' + p(vhost, name);
  const details = h('div');
  const src = h('div');
  const dst = h('div');
  const key = h('input', { placeholder: 'routing key' });
  const payload = h('textarea', { rows: 3, cols: 50 }, 'Hello from the dashboard');
  const form = h('form', { class: 'stack', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const res = await api('POST', base + '/publish', { routing_key: key.value, payload: payload.value,
        payload_encoding: 'string', properties: {} });
      toast(res && res.routed ? 'Published' : 'Published, but routed to no queue', !(res && res.routed));
    } catch (err) { toast(err.message, true); }
  } }, h('label', null, 'Routing key', key), h('label', null, 'Payload', payload), h('div', null, h('button', { type: 'submit' }, 'Publish')));
  root.replaceChildren(
    h('p', { class: 'muted' }, h('a', { href: '#/exchanges' }, 'Exchanges'), ` / ${vhost} /`),
    h('h1', null, name === 'amq.default' ? '(AMQP default)' : name),
    h('div', { class: 'grid two' }, card('Details', details), card('Publish a message', form)),
    h('div', { class: 'grid two' }, card('Bindings from it', src), card('Bindings to it', dst)));
  const bcols = (end) => [
    { key: end, label: end === 'destination' ? 'To' : 'From', cell: (b) => h('td', null,
      b.destination_type === 'queue' && end === 'destination'
        ? h('a', { href: queueHref({ vhost, name: b.destination }) }, b.destination)
        : h('a', { href: exchangeHref(vhost, b[end]) }, b[end] || '(default)')) },
    { key: 'destination_type', label: 'Kind' },
    { key: 'routing_key', label: 'Routing key', cell: (b) => h('td', { class: 'mono' }, b.routing_key) },
    { key: 'arguments', label: 'Arguments', cell: (b) => h('td', { class: 'mono' }, JSON.stringify(b.arguments || {})) },
  ];
  return {
    async refresh() {
      await fill(details, async () => {
        const x = await get(base);
        const ms = x.message_stats || {};
        return kv([['Type', x.type], ['Features', features(x)], ['In', rate(r(ms, 'publish_in_details.rate'))],
          ['Out', rate(r(ms, 'publish_out_details.rate'))]]);
      });
      await fill(src, async () => table(bcols('destination'), await get(base + '/bindings/source'), null));
      await fill(dst, async () => table(bcols('source'), await get(base + '/bindings/destination'), null));
    },
  };
}

// ---------------------------------------------- connections and channels

async function closeConnection(name) {
  if (!confirmAction(`Close the connection ${name}?`)) return false;
  try {
    await api('DELETE', '/api/connections' + p(name), undefined, { 'X-Reason': 'Closed from the warren dashboard' });
    toast('Connection closed');
    return true;
  } catch (err) {
    toast(err.message, true);
    return false;
  }
}

export function connections(root) {
  const st = { sort: 'name', desc: false };
  const slot = h('div', { id: 'connections-table' });
  root.replaceChildren(h('h1', null, 'Connections'), card(null, slot));
  const page = {
    async refresh() {
      await fill(slot, async () => {
        const d = await get('/api/connections');
        return table([
          { key: 'name', label: 'Name', cell: (c) => h('td', { class: 'mono' }, c.name) },
          { key: 'user', label: 'User' },
          { key: 'vhost', label: 'Vhost' },
          { key: 'state', label: 'State', cell: (c) => h('td', null, state(c.state)) },
          { key: 'client_properties.product', label: 'Client', cell: (c) => h('td', null,
            [r(c, 'client_properties.product'), r(c, 'client_properties.version')].filter(Boolean).join(' ') || '-') },
          { key: 'channels', label: 'Channels', num: true },
          { key: 'recv_oct_details.rate', label: 'From client', num: true, cell: (c) => h('td', { class: 'num' }, bytes(r(c, 'recv_oct_details.rate')) + '/s') },
          { key: 'send_oct_details.rate', label: 'To client', num: true, cell: (c) => h('td', { class: 'num' }, bytes(r(c, 'send_oct_details.rate')) + '/s') },
          { key: 'connected_at', label: 'Connected for', num: true, cell: (c) => h('td', { class: 'num' },
            epochMs(c.connected_at) === null ? '-' : duration(Date.now() - epochMs(c.connected_at))) },
          { key: 'close', label: '', nosort: true, cell: (c) => h('td', null, h('button', { class: 'danger small close-connection',
            onclick: async () => { if (await closeConnection(c.name)) page.refresh(); } }, 'Close')) },
        ], Array.isArray(d) ? d : d.items || [], st, () => page.refresh());
      });
    },
  };
  return page;
}

export function channels(root) {
  const st = { sort: 'name', desc: false };
  const slot = h('div', { id: 'channels-table' });
  root.replaceChildren(h('h1', null, 'Channels'), card(null, slot));
  const page = {
    async refresh() {
      await fill(slot, async () => {
        const d = await get('/api/channels');
        return table([
          { key: 'name', label: 'Channel', cell: (c) => h('td', { class: 'mono' }, c.name) },
          { key: 'user', label: 'User' },
          { key: 'mode', label: 'Mode', nosort: true, cell: (c) => h('td', null,
            c.confirm ? h('span', { class: 'badge', title: 'publisher confirms' }, 'C') : null,
            c.transactional ? h('span', { class: 'badge', title: 'transactional' }, 'T') : null) },
          { key: 'state', label: 'State', cell: (c) => h('td', null, state(c.state)) },
          { key: 'prefetch_count', label: 'Prefetch', num: true },
          { key: 'messages_unacknowledged', label: 'Unacked', num: true },
          { key: 'messages_unconfirmed', label: 'Unconfirmed', num: true },
          { key: 'consumer_count', label: 'Consumers', num: true },
          { key: 'message_stats.publish_details.rate', label: 'Publish', num: true,
            cell: (c) => h('td', { class: 'num' }, rate(r(c, 'message_stats.publish_details.rate'))) },
          { key: 'message_stats.deliver_get_details.rate', label: 'Deliver / get', num: true,
            cell: (c) => h('td', { class: 'num' }, rate(r(c, 'message_stats.deliver_get_details.rate'))) },
          { key: 'message_stats.ack_details.rate', label: 'Ack', num: true,
            cell: (c) => h('td', { class: 'num' }, rate(r(c, 'message_stats.ack_details.rate'))) },
          { key: 'close', label: '', nosort: true, cell: (c) => h('td', null, h('button', { class: 'danger small',
            title: 'AMQP closes a channel from the client only: this closes its connection',
            onclick: async () => { if (await closeConnection(r(c, 'connection_details.name'))) page.refresh(); } }, 'Close connection')) },
        ], Array.isArray(d) ? d : d.items || [], st, () => page.refresh());
      });
    },
  };
  return page;
}

// ----------------------------------------------------------------- admin

export function admin(root) {
  const users = h('div', { id: 'users-table' });
  const vhosts = h('div', { id: 'vhosts-table' });
  const perms = h('div', { id: 'permissions-table' });
  root.replaceChildren(h('h1', null, 'Users, vhosts, permissions'),
    h('div', { class: 'grid two' }, card('Users', users), card('Virtual hosts', vhosts)), card('Permissions', perms));
  return {
    async refresh() {
      await fill(users, async () => table([
        { key: 'name', label: 'Name' },
        { key: 'tags', label: 'Tags', cell: (u) => h('td', null, [].concat(u.tags || []).map((t) => h('span', { class: 'badge' }, t))) },
        { key: 'limits', label: 'Limits', cell: (u) => h('td', { class: 'mono' }, JSON.stringify(u.limits || {})) },
      ], await get('/api/users'), null));
      await fill(vhosts, async () => table([
        { key: 'name', label: 'Name' },
        { key: 'description', label: 'Description' },
        { key: 'messages_ready', label: 'Ready', num: true, cell: (v) => h('td', { class: 'num' }, num(v.messages_ready)) },
        { key: 'messages_unacknowledged', label: 'Unacked', num: true, cell: (v) => h('td', { class: 'num' }, num(v.messages_unacknowledged)) },
      ], await get('/api/vhosts'), null));
      await fill(perms, async () => table([
        { key: 'user', label: 'User' }, { key: 'vhost', label: 'Vhost' },
        { key: 'configure', label: 'Configure', cell: (x) => h('td', { class: 'mono' }, x.configure) },
        { key: 'write', label: 'Write', cell: (x) => h('td', { class: 'mono' }, x.write) },
        { key: 'read', label: 'Read', cell: (x) => h('td', { class: 'mono' }, x.read) },
      ], await get('/api/permissions'), null));
    },
  };
}
