// chart.js - line charts on a <canvas>, drawn by hand: a time axis, a
// value axis with round steps, one line per series, and a legend (HTML,
// under the canvas) with each series' latest value.

const PAD = { left: 54, right: 12, top: 10, bottom: 24 };

// Steps of 1, 2 or 5 times a power of ten, at most `count` of them up to max.
function niceStep(max, count) {
  const raw = max / count;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) {
    if (m * p >= raw) return m * p;
  }
  return 10 * p;
}

function shortNumber(v) {
  if (v >= 1e9) return (v / 1e9).toFixed(v >= 1e10 ? 0 : 1) + 'G';
  if (v >= 1e6) return (v / 1e6).toFixed(v >= 1e7 ? 0 : 1) + 'M';
  if (v >= 1e3) return (v / 1e3).toFixed(v >= 1e4 ? 0 : 1) + 'k';
  if (v === 0 || v >= 10 || Number.isInteger(v)) return String(Math.round(v));
  return v.toFixed(v >= 1 ? 1 : 2);
}

function clock(ms) {
  const d = new Date(ms);
  return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
}

// series: [{label, color, points: [[ms, value], ...] (any order)}];
// opts: {span: ms shown up to now, unit: ' /s', legend: element}.
export function drawChart(canvas, series, opts = {}) {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600, h = canvas.clientHeight || 220;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);

  const span = opts.span || 600000;
  let end = 0, npoints = 0, max = 0;
  for (const s of series) {
    for (const [t, v] of s.points) {
      end = Math.max(end, t);
      max = Math.max(max, v);
    }
    npoints = Math.max(npoints, s.points.length);
  }
  if (!end) end = Date.now();
  const start = end - span;
  const step = niceStep(max > 0 ? max : 1, 4);
  const top = Math.max(step, Math.ceil((max || 1) / step) * step);
  const x0 = PAD.left, x1 = w - PAD.right, y0 = h - PAD.bottom, y1 = PAD.top;
  const X = (t) => x0 + (x1 - x0) * (t - start) / span;
  const Y = (v) => y0 - (y0 - y1) * v / top;

  // grid and value axis
  g.font = '11px system-ui, sans-serif';
  g.fillStyle = '#6a7685';
  g.strokeStyle = '#e6ebf0';
  g.lineWidth = 1;
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (let v = 0; v <= top + step / 2; v += step) {
    const y = Math.round(Y(v)) + 0.5;
    g.beginPath(); g.moveTo(x0, y); g.lineTo(x1, y); g.stroke();
    g.fillText(shortNumber(v) + (opts.unit || ''), x0 - 6, y);
  }
  // time axis: a tick every 2 minutes (every 30 s for short spans)
  const tick = span > 180000 ? 120000 : 30000;
  g.textAlign = 'center';
  g.textBaseline = 'top';
  for (let t = Math.ceil(start / tick) * tick; t <= end; t += tick) {
    const x = Math.round(X(t)) + 0.5;
    g.beginPath(); g.moveTo(x, y0); g.lineTo(x, y0 + 4); g.stroke();
    g.fillText(clock(t), x, y0 + 6);
  }
  g.strokeStyle = '#b8c3ce';
  g.beginPath(); g.moveTo(x0, y0 + 0.5); g.lineTo(x1, y0 + 0.5); g.stroke();

  // the lines
  for (const s of series) {
    const pts = s.points.filter(([t]) => t >= start).sort((a, b) => a[0] - b[0]);
    if (!pts.length) continue;
    g.strokeStyle = s.color;
    g.lineWidth = 2;
    g.lineJoin = 'round';
    g.beginPath();
    pts.forEach(([t, v], i) => (i ? g.lineTo(X(t), Y(v)) : g.moveTo(X(t), Y(v))));
    g.stroke();
    if (pts.length === 1) {
      g.fillStyle = s.color;
      g.beginPath(); g.arc(X(pts[0][0]), Y(pts[0][1]), 2.5, 0, 2 * Math.PI); g.fill();
    }
  }
  if (!npoints) {
    g.fillStyle = '#6a7685';
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.font = '13px system-ui, sans-serif';
    g.fillText(opts.empty || 'collecting samples (one every 5 s)', (x0 + x1) / 2, (y0 + y1) / 2);
  }
  canvas.dataset.points = String(npoints); // the longest series' points

  if (opts.legend) {
    opts.legend.replaceChildren(...series.map((s) => {
      const last = s.points.reduce((a, p) => (!a || p[0] > a[0] ? p : a), null);
      const item = document.createElement('span');
      const sw = document.createElement('i');
      sw.style.background = s.color;
      const val = document.createElement('b');
      val.textContent = last ? shortNumber(last[1]) + (opts.unit || '') : '-';
      item.append(sw, s.label + ' ', val);
      return item;
    }));
  }
}

// RabbitMQ's samples (newest first, cumulative counters) as rates:
// one point per pair of neighbouring samples, per second.
export function ratePoints(details) {
  const s = (details && details.samples) || [];
  const out = [];
  for (let i = 0; i + 1 < s.length; i++) {
    const dt = (s[i].timestamp - s[i + 1].timestamp) / 1000;
    if (dt > 0) out.push([s[i].timestamp, Math.max(0, (s[i].sample - s[i + 1].sample) / dt)]);
  }
  return out;
}

// RabbitMQ's samples of a length (not a counter): the values as they are.
export function valuePoints(details) {
  return ((details && details.samples) || []).map((p) => [p.timestamp, p.sample]);
}
