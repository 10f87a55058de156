// Hand-drawn SVG charts for the management UI: a time-series line chart
// with axes and a legend, and a sparkline. The API keeps no history, so
// the series are the samples this page has polled (app.js keeps them).

(function () {
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs) {
  const e = document.createElementNS(SVGNS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}

// niceStep is a round step (1, 2 or 5 times a power of ten) that cuts
// 0..max into about n intervals.
function niceStep(max, n) {
  const raw = max / n;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function axisLabel(v) {
  const a = Math.abs(v);
  if (a >= 1e9) return +(v / 1e9).toFixed(1) + 'G';
  if (a >= 1e6) return +(v / 1e6).toFixed(1) + 'M';
  if (a >= 1e3) return +(v / 1e3).toFixed(1) + 'k';
  if (a > 0 && a < 1) return +v.toFixed(2) + '';
  return Math.round(v * 10) / 10 + '';
}

function clockLabel(t) {
  const d = new Date(t);
  return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0') + ':' +
    String(d.getSeconds()).padStart(2, '0');
}

// lineChart draws series ([{name, color, values}]) over times (ms since
// the epoch, one per value) into a new element and returns it. opts:
// height (px), unit (appended to legend values), format (legend values).
function lineChart(times, series, opts) {
  opts = opts || {};
  const W = 560, H = opts.height || 170, L = 46, R = 10, T = 10, B = 22;
  const wrap = document.createElement('div');
  wrap.className = 'chart';
  const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none', role: 'img' });
  svg.setAttribute('height', H);
  wrap.appendChild(svg);
  let max = 0;
  for (const s of series) for (const v of s.values) if (v > max) max = v;
  const step = max > 0 ? niceStep(max, 4) : 1;
  const top = max > 0 ? Math.ceil(max / step) * step : 4;
  const t0 = times.length ? times[0] : 0, t1 = times.length ? times[times.length - 1] : 1;
  const span = Math.max(t1 - t0, 1);
  const x = t => L + (W - L - R) * (times.length < 2 ? 1 : (t - t0) / span);
  const y = v => T + (H - T - B) * (1 - v / top);
  for (let v = 0; v <= top + step / 2; v += step) {
    svg.appendChild(svgEl('line', { class: 'grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    const lab = svgEl('text', { class: 'axis', x: L - 5, y: y(v) + 3.5, 'text-anchor': 'end' });
    lab.textContent = axisLabel(v);
    svg.appendChild(lab);
  }
  if (times.length >= 2) {
    for (const [t, anchor] of [[t0, 'start'], [t1, 'end']]) {
      const lab = svgEl('text', { class: 'axis', x: x(t), y: H - 6, 'text-anchor': anchor });
      lab.textContent = clockLabel(t);
      svg.appendChild(lab);
    }
    // The first series is drawn last, on top: equal series (publish and
    // deliver rates of a keeping-up consumer) then still show the first,
    // and the dashed ones under it.
    for (const s of series.slice().reverse()) {
      let d = '';
      s.values.forEach((v, i) => { d += (i ? 'L' : 'M') + x(times[i]).toFixed(1) + ' ' + y(v).toFixed(1); });
      const attrs = { class: 'line', d: d, stroke: s.color, 'vector-effect': 'non-scaling-stroke' };
      if (s.dash) attrs['stroke-dasharray'] = s.dash;
      svg.appendChild(svgEl('path', attrs));
    }
  } else {
    const t = svgEl('text', { class: 'nodata', x: (L + W) / 2, y: H / 2, 'text-anchor': 'middle' });
    t.textContent = 'collecting samples…';
    svg.appendChild(t);
  }
  const legend = document.createElement('div');
  legend.className = 'legend';
  const fmt = opts.format || (v => axisLabel(v));
  for (const s of series) {
    const item = document.createElement('span');
    item.dataset.series = s.name;
    const sw = document.createElement('span');
    sw.className = 'sw';
    sw.style.background = s.color;
    item.appendChild(sw);
    item.appendChild(document.createTextNode(s.name));
    const b = document.createElement('b');
    b.textContent = s.values.length ? fmt(s.values[s.values.length - 1]) + (opts.unit || '') : '—';
    item.appendChild(b);
    legend.appendChild(item);
  }
  wrap.appendChild(legend);
  return wrap;
}

// sparkline is a small line of values (oldest first), scaled to its own
// maximum, with the last point marked.
function sparkline(values, color) {
  const W = 100, H = 18;
  const svg = svgEl('svg', { class: 'spark', width: W, height: H, viewBox: '0 0 ' + W + ' ' + H });
  if (values.length < 2) return svg;
  let max = 0;
  for (const v of values) if (v > max) max = v;
  const n = values.length;
  const px = i => 1 + (W - 4) * i / (n - 1);
  const py = v => H - 2 - (H - 4) * (max > 0 ? v / max : 0);
  let d = '';
  values.forEach((v, i) => { d += (i ? 'L' : 'M') + px(i).toFixed(1) + ' ' + py(v).toFixed(1); });
  svg.appendChild(svgEl('path', { d: d, fill: 'none', stroke: color || '#2f6f4f', 'stroke-width': 1.3 }));
  svg.appendChild(svgEl('circle', { cx: px(n - 1), cy: py(values[n - 1]), r: 1.8, fill: color || '#2f6f4f' }));
  return svg;
}

window.WarrenChart = { lineChart, sparkline };
})();
