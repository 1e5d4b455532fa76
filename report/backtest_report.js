// Draws the sluice backtest report from the metrics JSON in #sluice-metrics
// (schema: docs/backtest.md) with Vega-Lite, rendered as SVG.
//
// Every string from the metrics reaches the page as a DOM text node or as
// Vega text, never as markup, and never inside a Vega expression. Any number
// may be null and any list may be empty: a chart without data becomes a note.
//
// When every chart has settled the page sets
//   window.sluiceReport = {done: true, charts: N, drawn: M, errors: [...]}
// and <html data-report="done|errors">, for tests and for anyone scripting it.
(function () {
  'use strict';

  var status = { done: false, charts: 0, drawn: 0, errors: [] };
  window.sluiceReport = status;

  var FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif';
  var MUTED = '#5d6472';
  var GOOD = '#4e79a7';
  var BAD = '#d1495b';
  var POLICY_COLORS = { champion: ['#2f6db5'], challenger: ['#d0742c', '#8e5ea2', '#3c9d8f', '#b5933a'] };
  var EXTRA_COLORS = ['#8e5ea2', '#76b7b2', '#9c755f', '#bab0ac', '#ff9da7', '#4e79a7', '#edc948'];
  var VEGA_CONFIG = {
    font: FONT,
    background: null,
    view: { stroke: null },
    padding: { left: 4, right: 12, top: 4, bottom: 4 },
    title: { fontSize: 13, fontWeight: 600, anchor: 'start', color: '#1f2430', offset: 10, subtitleColor: MUTED, subtitleFontSize: 11 },
    axis: {
      labelColor: MUTED, titleColor: MUTED, labelFontSize: 11, titleFontSize: 11, titleFontWeight: 600,
      gridColor: '#eceff3', domainColor: '#b9c0cb', tickColor: '#b9c0cb'
    },
    legend: { labelFontSize: 11, titleFontSize: 11, labelColor: '#1f2430', titleColor: MUTED },
    header: { labelFontSize: 11, labelColor: '#1f2430', labelFontWeight: 600 },
    text: { fontSize: 10, color: '#1f2430' },
    line: { strokeWidth: 1.8 }
  };

  // ---- values -------------------------------------------------------------

  function isNum(x) { return typeof x === 'number' && isFinite(x); }
  function list(x) { return Array.isArray(x) ? x : []; }
  function record(x) { return x !== null && typeof x === 'object' && !Array.isArray(x) ? x : {}; }
  function text(x) { return x === null || x === undefined ? '' : String(x); }
  function num(x) { return isNum(x) ? x : null; }
  function ratio(a, b) { return isNum(a) && isNum(b) && b > 0 ? a / b : null; }
  function has(o, key) { return Object.prototype.hasOwnProperty.call(o, key); }

  var intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  function fmtInt(x) { return isNum(x) ? intFormat.format(x) : '—'; }
  function fmtPct(x, digits) { return isNum(x) ? (x * 100).toFixed(digits === undefined ? 1 : digits) + '%' : '—'; }
  function fmtNum(x, digits) { return isNum(x) ? x.toFixed(digits) : '—'; }

  // ---- DOM: text nodes only -------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        if (has(attrs, key)) node.setAttribute(key, attrs[key]);
      }
    }
    list(children).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  function section(root, title, note) {
    var s = el('section', null, [el('h2', null, [title])]);
    if (note) s.appendChild(el('p', { class: 'note' }, [note]));
    root.appendChild(s);
    return s;
  }

  function panel(parent, title, extra) {
    var p = el('div', { class: 'panel' });
    if (title) p.appendChild(el('h3', null, [title].concat(list(extra))));
    parent.appendChild(p);
    return p;
  }

  function grid(parent, kind) {
    var g = el('div', { class: kind ? 'grid ' + kind : 'grid' });
    parent.appendChild(g);
    return g;
  }

  function emptyNote(parent, message) {
    parent.appendChild(el('p', { class: 'empty' }, [message]));
  }

  function roleBadge(role) {
    var r = text(role);
    return r ? el('span', { class: 'role ' + (r === 'champion' || r === 'challenger' ? r : 'other') }, [r]) : null;
  }

  // columns: [{title, cell: function(row) -> string, text: bool (long text), left: bool (a name)}]
  function table(parent, columns, rows, rowClass) {
    var head = el('tr', null, columns.map(function (c) { return el('th', c.text || c.left ? { class: 'left' } : null, [c.title]); }));
    var body = rows.map(function (row) {
      return el('tr', rowClass ? { class: rowClass(row) } : null, columns.map(function (c) {
        return el('td', c.text ? { class: 'text' } : c.left ? { class: 'left' } : null, [c.cell(row)]);
      }));
    });
    var t = el('table', { class: 'numbers' }, [el('thead', null, [head]), el('tbody', null, body)]);
    parent.appendChild(t);
    return t;
  }

  function tile(parent, label, value, detail) {
    parent.appendChild(el('div', { class: 'tile' }, [
      el('div', { class: 'label' }, [label]),
      el('div', { class: 'value' }, [value]),
      detail ? el('div', { class: 'detail' }, [detail]) : null
    ]));
  }

  // ---- charts -------------------------------------------------------------

  var pending = [];

  // Adds a chart container to `parent`; it is drawn by drawCharts().
  function chart(parent, spec) {
    var box = el('div', { class: 'chart' });
    parent.appendChild(box);
    pending.push({ box: box, spec: spec });
    return box;
  }

  // Width in pixels for the specs that cannot use width 'container' (facets).
  function widthOf(node, minimum) {
    return Math.max(minimum, Math.floor(node.getBoundingClientRect().width) - 120);
  }

  function chartTitle(spec) {
    var t = spec.title;
    return text(t && typeof t === 'object' ? t.text : t) || 'untitled chart';
  }

  function drawCharts() {
    status.charts = pending.length;
    var runs = pending.map(function (item) {
      var run;
      try {
        run = Promise.resolve(window.vegaEmbed(item.box, item.spec, {
          renderer: 'svg', actions: false, config: VEGA_CONFIG, tooltip: { theme: 'light' }
        }));
      } catch (err) {
        run = Promise.reject(err);
      }
      return run.then(function () {
        status.drawn += 1;
      }, function (err) {
        var message = err && err.message ? err.message : String(err);
        status.errors.push(chartTitle(item.spec) + ': ' + message);
        item.box.textContent = '';
        item.box.appendChild(el('p', { class: 'chart-error' }, ['This chart could not be drawn: ' + message]));
      });
    });
    return Promise.all(runs);
  }

  function finish() {
    status.done = true;
    document.documentElement.setAttribute('data-report', status.errors.length ? 'errors' : 'done');
  }

  function fatal(message) {
    status.errors.push(message);
    var root = document.getElementById('report');
    root.appendChild(el('p', { class: 'fatal' }, [message]));
    finish();
  }

  // ---- shape of the metrics ------------------------------------------------

  function policyName(p, i) { return text(p.name) || 'policy ' + (i + 1); }

  // Declared actions in order: the first policy's order, then any others.
  function actionNames(policies) {
    var names = [];
    policies.forEach(function (p) {
      list(p.actions).forEach(function (a) {
        var n = text(record(a).action);
        if (names.indexOf(n) < 0) names.push(n);
      });
    });
    return names;
  }

  function policyColors(policies) {
    var used = { champion: 0, challenger: 0 };
    var extra = 0;
    return policies.map(function (p) {
      var role = text(p.role) === 'champion' ? 'champion' : 'challenger';
      var colors = POLICY_COLORS[role];
      var i = used[role]++;
      return i < colors.length ? colors[i] : EXTRA_COLORS[extra++ % EXTRA_COLORS.length];
    });
  }

  // "2026-01-01", "2026-01", "2026-01-01T13", "2026-01-01 13:00" -> UTC ms; else null.
  function periodTime(period) {
    var m = /^(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?Z?)?)?$/.exec(text(period));
    if (!m) return null;
    var t = Date.UTC(+m[1], +m[2] - 1, m[3] ? +m[3] : 1, m[4] ? +m[4] : 0, m[5] ? +m[5] : 0, m[6] ? +m[6] : 0);
    return isFinite(t) ? t : null;
  }

  var TIME_FORMATS = { minute: '%b %d %H:%M', hour: '%b %d %H:%M', day: '%b %d', week: '%b %d', month: '%b %Y', quarter: '%b %Y', year: '%Y' };

  // The x encoding of a period axis: time when every period reads as a date.
  function periodAxis(periods, unit) {
    var times = periods.map(periodTime);
    var temporal = periods.length > 0 && times.every(function (t) { return t !== null; });
    var title = unit ? text(unit) : 'period';
    if (temporal) {
      var span = Math.max.apply(null, times) - Math.min.apply(null, times);
      var day = 86400000;
      var format = span > 400 * day ? '%b %Y' : has(TIME_FORMATS, unit) ? TIME_FORMATS[unit] : span <= 3 * day ? '%b %d %H:%M' : '%b %d';
      return {
        temporal: true, times: times,
        x: { field: 'time', type: 'temporal', scale: { type: 'utc' }, title: title, axis: { format: format, labelOverlap: 'greedy', labelPadding: 4, grid: false } }
      };
    }
    return {
      temporal: false, times: times,
      x: { field: 'period', type: 'ordinal', sort: null, title: title, axis: { labelOverlap: 'greedy', labelAngle: -40, labelLimit: 90 } }
    };
  }

  // ---- header ---------------------------------------------------------------

  function drawHeader(m) {
    var pipeline = record(m.pipeline);
    var name = text(pipeline.name) || 'pipeline';
    var version = text(pipeline.version);
    document.title = 'Backtest: ' + name + (version ? ' v' + version : '');
    var header = document.getElementById('report-header');
    header.textContent = '';
    header.appendChild(el('h1', null, ['Backtest: ' + name + (version ? ' (version ' + version + ')' : '')]));
    var facts = [];
    function fact(label, value) {
      if (value === '') return;
      if (facts.length) facts.push('  ·  ');
      facts.push(label + ' ');
      facts.push(el('code', null, [value]));
    }
    fact('pipeline', text(pipeline.file));
    fact('hash', text(pipeline.hash));
    fact('input', text(m.input));
    fact('labels', text(m.labels));
    header.appendChild(el('div', { class: 'sub' }, facts));
  }

  function drawTotals(root, m, policies, models) {
    var tiles = el('div', { class: 'tiles' });
    root.appendChild(tiles);
    tile(tiles, 'Records', fmtInt(m.records), null);
    tile(tiles, 'Decided', fmtInt(m.decided), fmtPct(ratio(m.decided, m.records), 2) + ' of records');
    tile(tiles, 'Rejected', fmtInt(m.rejected), 'invalid records, not decided');
    tile(tiles, 'Labelled', fmtInt(m.labelled), fmtPct(ratio(m.labelled, m.decided)) + ' of decided');
    tile(tiles, 'Bad', fmtInt(m.bad), fmtPct(ratio(m.bad, m.labelled), 2) + ' of labelled');
    var accept = list(m.accept_actions).map(text);
    tile(tiles, 'Policies', String(policies.length), accept.length ? 'accepting: ' + accept.join(', ') : null);
    tile(tiles, 'Models', String(models.length), null);
    var periods = policies.length ? list(record(policies[0]).over_time) : [];
    if (periods.length) {
      var first = text(record(periods[0]).period);
      var last = text(record(periods[periods.length - 1]).period);
      tile(tiles, 'Periods', fmtInt(periods.length), (text(m.period_unit) || 'period') + ': ' + first + (periods.length > 1 ? ' – ' + last : ''));
    }
  }

  // ---- policies ----------------------------------------------------------

  function actionRows(policies, ctx) {
    var rows = [];
    policies.forEach(function (p, i) {
      list(p.actions).forEach(function (a) {
        a = record(a);
        rows.push({
          policy: ctx.policyNames[i], action: text(a.action), count: num(a.count),
          rate: isNum(a.rate) ? a.rate : ratio(a.count, p.decisions),
          labelled: num(a.labelled), good: num(a.good), bad: num(a.bad),
          bad_rate: isNum(a.bad_rate) ? a.bad_rate : ratio(a.bad, a.labelled)
        });
      });
    });
    return rows;
  }

  function groupedBar(title, rows, field, axisTitle, ctx) {
    var color = { field: 'policy', type: 'nominal', scale: { domain: ctx.policyNames, range: ctx.policyColors }, legend: { orient: 'top', title: null } };
    return {
      title: title,
      width: 'container', height: 230,
      data: { values: rows.filter(function (r) { return r[field] !== null; }) },
      encoding: {
        x: { field: 'action', type: 'nominal', sort: ctx.actions, title: null, axis: { labelAngle: 0, labelFontSize: 12 } },
        xOffset: { field: 'policy', type: 'nominal', sort: ctx.policyNames },
        y: { field: field, type: 'quantitative', title: axisTitle, axis: { format: '.0%' } },
        color: color,
        tooltip: [
          { field: 'policy', title: 'policy' }, { field: 'action', title: 'action' },
          { field: 'count', title: 'decisions', format: ',d' }, { field: 'rate', title: 'rate', format: '.2%' },
          { field: 'labelled', title: 'labelled', format: ',d' }, { field: 'bad', title: 'bad', format: ',d' },
          { field: 'bad_rate', title: 'bad rate', format: '.2%' }
        ]
      },
      layer: [
        { mark: { type: 'bar', cornerRadiusEnd: 2 } },
        { mark: { type: 'text', baseline: 'bottom', dy: -3, color: MUTED }, encoding: { text: { field: field, format: '.1%' } } }
      ]
    };
  }

  // Where the goods and the bads of a policy went: share of each label per action.
  function outcomeHeatmap(p, name, ctx) {
    var rows = [];
    ['good', 'bad'].forEach(function (label) {
      var total = 0;
      list(p.actions).forEach(function (a) { if (isNum(record(a)[label])) total += record(a)[label]; });
      list(p.actions).forEach(function (a) {
        a = record(a);
        var count = num(a[label]);
        var share = ratio(count, total);
        rows.push({
          label: label, action: text(a.action), count: count, share: share,
          caption: fmtInt(count) + (share !== null ? ' (' + fmtPct(share, 1) + ')' : '')
        });
      });
    });
    if (!rows.some(function (r) { return r.count !== null; })) return null;
    return {
      title: { text: name + ': where the goods and the bads went', subtitle: 'labelled decisions per action; colour = share of the label' },
      width: 'container', height: 110,
      data: { values: rows },
      encoding: {
        x: { field: 'action', type: 'nominal', sort: ctx.actions, title: null, axis: { orient: 'top', labelAngle: 0, labelFontSize: 12, domain: false, ticks: false } },
        y: { field: 'label', type: 'nominal', sort: ['good', 'bad'], title: null, axis: { labelFontSize: 12, domain: false, ticks: false } }
      },
      layer: [
        {
          mark: { type: 'rect', stroke: '#fff', strokeWidth: 2 },
          encoding: {
            color: { field: 'share', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] }, legend: null },
            tooltip: [
              { field: 'label', title: 'label' }, { field: 'action', title: 'action' },
              { field: 'count', title: 'records', format: ',d' }, { field: 'share', title: 'share of label', format: '.2%' }
            ]
          }
        },
        {
          mark: { type: 'text', fontSize: 12 },
          encoding: {
            text: { field: 'caption' },
            color: { condition: { test: 'datum.share > 0.55', value: '#ffffff' }, value: '#1f2430' }
          }
        }
      ]
    };
  }

  function drawPolicies(root, m, policies, ctx) {
    var accept = ctx.accept;
    var s = section(root, 'Decisions by policy',
      'Rates are shares of the policy\'s decisions; bad rate = bad / labelled among the records that got the action. ' +
      (accept.length ? 'Accepting actions: ' + accept.join(', ') + '.' : ''));
    if (!policies.length) {
      emptyNote(s, 'These metrics hold no policy.');
      return;
    }
    var tables = grid(s);
    policies.forEach(function (p, i) {
      var models = list(p.models).map(text);
      var box = panel(tables, ctx.policyNames[i], [roleBadge(p.role)]);
      box.appendChild(el('p', { class: 'note' }, [
        fmtInt(p.decisions) + ' decisions' + (models.length ? '; models: ' + models.join(', ') : '; no model')
      ]));
      var rows = actionRows([p], ctx);
      if (!rows.length) {
        emptyNote(box, 'No actions.');
        return;
      }
      table(box, [
        { title: 'action', cell: function (r) { return r.action; } },
        { title: 'decisions', cell: function (r) { return fmtInt(r.count); } },
        { title: 'rate', cell: function (r) { return fmtPct(r.rate, 2); } },
        { title: 'labelled', cell: function (r) { return fmtInt(r.labelled); } },
        { title: 'good', cell: function (r) { return fmtInt(r.good); } },
        { title: 'bad', cell: function (r) { return fmtInt(r.bad); } },
        { title: 'bad rate', cell: function (r) { return fmtPct(r.bad_rate, 2); } }
      ], rows, function (r) { return accept.indexOf(r.action) >= 0 ? 'accept' : ''; });
    });

    var rows = actionRows(policies, ctx);
    var charts = grid(s);
    var rates = panel(charts);
    if (rows.some(function (r) { return r.rate !== null; })) {
      chart(rates, groupedBar('Action rates', rows, 'rate', 'share of decisions', ctx));
    } else {
      emptyNote(rates, 'No action rates.');
    }
    var badRates = panel(charts);
    if (rows.some(function (r) { return r.bad_rate !== null; })) {
      chart(badRates, groupedBar('Bad rate by action', rows, 'bad_rate', 'bad / labelled', ctx));
    } else {
      emptyNote(badRates, 'No labelled decisions, so no bad rates.');
    }

    var outcomes = grid(s);
    policies.forEach(function (p, i) {
      var box = panel(outcomes);
      var spec = outcomeHeatmap(p, ctx.policyNames[i], ctx);
      if (spec) chart(box, spec);
      else emptyNote(box, ctx.policyNames[i] + ': no labelled decisions.');
    });
  }

  function drawReasons(root, policies, ctx) {
    if (!policies.length) return;
    var s = section(root, 'Reason codes', 'The 15 most frequent reason codes of each policy; rate = share of the policy\'s decisions that carry the code.');
    var g = grid(s);
    policies.forEach(function (p, i) {
      var box = panel(g, ctx.policyNames[i], [roleBadge(p.role)]);
      var reasons = list(p.reasons).map(record).slice(0, 15).map(function (r) {
        return { code: text(r.code), text: text(r.text), count: num(r.count), rate: isNum(r.rate) ? r.rate : ratio(r.count, p.decisions) };
      });
      if (!reasons.length) {
        emptyNote(box, 'This policy gave no reason codes.');
        return;
      }
      chart(box, {
        width: 'container', height: Math.max(60, reasons.length * 20),
        data: { values: reasons },
        encoding: {
          y: { field: 'code', type: 'nominal', sort: reasons.map(function (r) { return r.code; }), title: null, axis: { labelLimit: 180, labelFontSize: 11 } },
          x: { field: 'count', type: 'quantitative', title: 'decisions with the code', axis: { format: '~s' } },
          tooltip: [
            { field: 'code', title: 'code' }, { field: 'text', title: 'text' },
            { field: 'count', title: 'decisions', format: ',d' }, { field: 'rate', title: 'rate', format: '.2%' }
          ]
        },
        layer: [
          { mark: { type: 'bar', color: ctx.policyColors[i], cornerRadiusEnd: 2 } },
          { mark: { type: 'text', align: 'left', dx: 3, color: MUTED }, encoding: { text: { field: 'rate', format: '.2%' } } }
        ]
      });
      table(box, [
        { title: 'code', cell: function (r) { return r.code; } },
        { title: 'text', cell: function (r) { return r.text; }, text: true },
        { title: 'decisions', cell: function (r) { return fmtInt(r.count); } },
        { title: 'rate', cell: function (r) { return fmtPct(r.rate, 2); } }
      ], reasons);
    });
  }

  // ---- over time -----------------------------------------------------------

  function drawOverTime(root, m, policies, ctx) {
    var series = policies.map(function (p) { return list(p.over_time).map(record); });
    var periods = [];
    var seen = new Set();
    series.forEach(function (rows) {
      rows.forEach(function (r) {
        var period = text(r.period);
        if (!seen.has(period)) {
          seen.add(period);
          periods.push(period);
        }
      });
    });
    if (!policies.length) return;
    var unit = text(m.period_unit) || 'period';
    var s = section(root, 'Decisions over time',
      'Per ' + unit + ': the share of each policy\'s decisions that got each action, the number of decisions, and the bad rate of the labelled records.');
    if (!periods.length) {
      emptyNote(s, 'These metrics hold no periods.');
      return;
    }
    var axis = periodAxis(periods, text(m.period_unit));
    var timeOf = new Map();
    periods.forEach(function (p, i) { timeOf.set(p, axis.times[i]); });
    var mark = function (type, color) {
      var mk = {
        type: type, interpolate: 'linear', strokeWidth: periods.length > 400 ? 1 : 1.8,
        point: periods.length <= 31 ? { size: periods.length <= 3 ? 50 : 18 } : false
      };
      if (color) mk.color = color;
      return mk;
    };

    var rateRows = [];
    var volumeRows = [];
    series.forEach(function (rows, i) {
      rows.forEach(function (r) {
        var counts = record(r.counts);
        var total = 0;
        ctx.actions.forEach(function (a) { if (has(counts, a) && isNum(counts[a])) total += counts[a]; });
        ctx.actions.forEach(function (a) {
          var count = has(counts, a) ? num(counts[a]) : null;
          rateRows.push({
            policy: ctx.policyNames[i], action: a, period: text(r.period), time: timeOf.get(text(r.period)),
            count: count, rate: ratio(count, total)
          });
        });
        if (i === 0) {
          volumeRows.push({
            period: text(r.period), time: timeOf.get(text(r.period)), decisions: total,
            labelled: num(r.labelled), bad: num(r.bad), bad_rate: ratio(r.bad, r.labelled)
          });
        }
      });
    });

    var full = panel(s);
    var width = widthOf(full, 320);
    var tooltip = [
      { field: 'period', title: unit }, { field: 'policy', title: 'policy' }, { field: 'action', title: 'action' },
      { field: 'count', title: 'decisions', format: ',d' }, { field: 'rate', title: 'share', format: '.2%' }
    ];
    chart(full, {
      title: { text: 'Action rates per ' + unit, subtitle: 'one row per action, its own scale; one line per policy' },
      data: { values: rateRows.filter(function (r) { return r.rate !== null; }) },
      facet: { row: { field: 'action', type: 'nominal', sort: ctx.actions, title: null, header: { labelAngle: 0, labelOrient: 'top', labelAnchor: 'start', labelPadding: 2 } } },
      spacing: 6,
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: width, height: 80,
        mark: mark('line'),
        encoding: {
          x: axis.x,
          y: { field: 'rate', type: 'quantitative', title: null, axis: { format: '.1%', tickCount: 3 }, scale: { zero: false } },
          color: { field: 'policy', type: 'nominal', scale: { domain: ctx.policyNames, range: ctx.policyColors }, legend: { orient: 'top', title: null } },
          tooltip: tooltip
        }
      }
    });

    var g = grid(s);
    var volume = panel(g);
    chart(volume, {
      title: 'Decisions and labelled records per ' + unit,
      width: 'container', height: 200,
      data: { values: volumeRows },
      transform: [{ fold: ['decisions', 'labelled'], as: ['series', 'value'] }, { filter: 'isValid(datum.value)' }],
      mark: mark('line'),
      encoding: {
        x: axis.x,
        y: { field: 'value', type: 'quantitative', title: 'records', axis: { format: '~s' } },
        color: { field: 'series', type: 'nominal', scale: { domain: ['decisions', 'labelled'], range: ['#7a8494', GOOD] }, legend: { orient: 'top', title: null } },
        tooltip: [{ field: 'period', title: unit }, { field: 'series', title: 'series' }, { field: 'value', title: 'records', format: ',d' }]
      }
    });
    var bad = panel(g);
    var badRows = volumeRows.filter(function (r) { return r.bad_rate !== null; });
    if (badRows.length) {
      chart(bad, {
        title: 'Bad rate of labelled records per ' + unit,
        width: 'container', height: 200,
        data: { values: badRows },
        mark: mark('line', BAD),
        encoding: {
          x: axis.x,
          y: { field: 'bad_rate', type: 'quantitative', title: 'bad / labelled', axis: { format: '.1%' } },
          tooltip: [
            { field: 'period', title: unit }, { field: 'labelled', title: 'labelled', format: ',d' },
            { field: 'bad', title: 'bad', format: ',d' }, { field: 'bad_rate', title: 'bad rate', format: '.2%' }
          ]
        }
      });
    } else {
      emptyNote(bad, 'No labelled records in any ' + unit + ', so no bad rate over time.');
    }
  }

  // ---- models --------------------------------------------------------------

  function rocSpec(model, name) {
    var points = list(model.roc).map(record).map(function (p, i) { return { i: i, fpr: num(p.fpr), tpr: num(p.tpr) }; })
      .filter(function (p) { return p.fpr !== null && p.tpr !== null; });
    if (!points.length) return null;
    return {
      title: { text: 'ROC  ·  AUC ' + fmtNum(num(model.auc), 3), subtitle: name + ': share of bads caught against share of goods hit' },
      width: 'container', height: 260,
      layer: [
        {
          data: { values: [{ fpr: 0, tpr: 0 }, { fpr: 1, tpr: 1 }] },
          mark: { type: 'line', color: '#b9c0cb', strokeDash: [4, 4], strokeWidth: 1 },
          encoding: { x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' } }
        },
        {
          data: { values: points },
          mark: { type: 'line', color: GOOD, strokeWidth: 2.2 },
          encoding: {
            x: { field: 'fpr', type: 'quantitative', title: 'false positive rate', scale: { domain: [0, 1] } },
            y: { field: 'tpr', type: 'quantitative', title: 'true positive rate', scale: { domain: [0, 1] } },
            order: { field: 'i', type: 'quantitative' }
          }
        },
        {
          data: { values: points },
          mark: { type: 'point', opacity: 0, size: 60 },
          encoding: {
            x: { field: 'fpr', type: 'quantitative' }, y: { field: 'tpr', type: 'quantitative' },
            tooltip: [{ field: 'fpr', title: 'FPR', format: '.3f' }, { field: 'tpr', title: 'TPR', format: '.3f' }]
          }
        }
      ]
    };
  }

  function ksSpec(model, name) {
    var rows = [];
    var curve = list(model.ks_curve).map(record).filter(function (p) { return isNum(p.score); });
    curve.forEach(function (p) {
      if (isNum(p.good)) rows.push({ score: p.score, label: 'good', share: p.good });
      if (isNum(p.bad)) rows.push({ score: p.score, label: 'bad', share: p.bad });
    });
    if (!rows.length) return null;
    var ks = num(model.ks);
    var at = num(model.ks_score);
    var layers = [{
      data: { values: rows },
      mark: { type: 'line' },
      encoding: {
        x: { field: 'score', type: 'quantitative', title: 'score', scale: { zero: false, nice: false } },
        y: { field: 'share', type: 'quantitative', title: 'cumulative share with score ≤ s', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
        color: { field: 'label', type: 'nominal', scale: { domain: ['good', 'bad'], range: [GOOD, BAD] }, legend: { orient: 'top', title: null } },
        tooltip: [{ field: 'label', title: 'label' }, { field: 'score', title: 'score', format: '.4~f' }, { field: 'share', title: 'cumulative share', format: '.2%' }]
      }
    }];
    if (at !== null && curve.length) {
      var nearest = curve.reduce(function (best, p) { return Math.abs(p.score - at) < Math.abs(best.score - at) ? p : best; }, curve[0]);
      if (isNum(nearest.good) && isNum(nearest.bad)) {
        var gap = [{ score: at, low: Math.min(nearest.good, nearest.bad), high: Math.max(nearest.good, nearest.bad), caption: 'KS ' + fmtNum(ks, 3) }];
        layers.push({
          data: { values: gap },
          mark: { type: 'rule', color: '#1f2430', strokeWidth: 2 },
          encoding: { x: { field: 'score', type: 'quantitative' }, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } }
        });
        layers.push({
          data: { values: gap },
          mark: { type: 'text', align: 'left', dx: 6, fontSize: 11, fontWeight: 600 },
          encoding: { x: { field: 'score', type: 'quantitative' }, y: { field: 'high', type: 'quantitative' }, text: { field: 'caption' } }
        });
      }
    }
    return {
      title: { text: 'KS  ·  ' + fmtNum(ks, 3) + (at !== null ? ' at score ' + fmtNum(at, 4) : ''), subtitle: name + ': cumulative share of goods and of bads up to each score' },
      width: 'container', height: 260,
      layer: layers
    };
  }

  function histogramSpec(model, name) {
    var bins = list(model.histogram).map(record).filter(function (b) { return isNum(b.low) && isNum(b.high); });
    var totals = { good: 0, bad: 0 };
    bins.forEach(function (b) {
      if (isNum(b.good)) totals.good += b.good;
      if (isNum(b.bad)) totals.bad += b.bad;
    });
    var rows = [];
    ['good', 'bad'].forEach(function (label) {
      bins.forEach(function (b) {
        if (!isNum(b[label]) || totals[label] <= 0) return;
        rows.push({
          low: b.low, high: b.high, label: label, count: b[label], share: b[label] / totals[label],
          range: fmtNum(b.low, 3) + ' – ' + fmtNum(b.high, 3)
        });
      });
    });
    if (!rows.length) return null;
    return {
      title: { text: 'Score distribution by label', subtitle: name + ': share of each label\'s records in each score bin' },
      width: 'container', height: 260,
      data: { values: rows },
      mark: { type: 'bar', opacity: 0.55, binSpacing: 0, stroke: '#ffffff', strokeWidth: 0.5 },
      encoding: {
        x: { field: 'low', type: 'quantitative', title: 'score', scale: { zero: false, nice: false } },
        x2: { field: 'high' },
        y: { field: 'share', type: 'quantitative', title: 'share of label', stack: null, axis: { format: '.0%' } },
        y2: { datum: 0 },
        color: { field: 'label', type: 'nominal', scale: { domain: ['good', 'bad'], range: [GOOD, BAD] }, legend: { orient: 'top', title: null } },
        tooltip: [
          { field: 'label', title: 'label' }, { field: 'range', title: 'score' },
          { field: 'count', title: 'records', format: ',d' }, { field: 'share', title: 'share of label', format: '.2%' }
        ]
      }
    };
  }

  function drawModels(root, policies, models, ctx) {
    var s = section(root, 'Models',
      'How well each model\'s score separates the labelled bads from the goods (a higher score means more likely bad). ' +
      'Gini = 2 × AUC − 1; KS = the largest gap between the cumulative score distributions of bads and goods.');
    if (!models.length) {
      emptyNote(s, 'This pipeline scores no model.');
      return;
    }
    var usedBy = function (name) {
      return policies.filter(function (p) { return list(p.models).map(text).indexOf(name) >= 0; })
        .map(function (p) { return text(p.name); }).join(', ');
    };
    var summary = panel(s);
    table(summary, [
      { title: 'model', cell: function (r) { return text(r.name); } },
      { title: 'score', cell: function (r) { return text(r.score); }, left: true },
      { title: 'used by', cell: function (r) { return usedBy(text(r.name)) || '—'; }, left: true },
      { title: 'labelled', cell: function (r) { return fmtInt(r.labelled); } },
      { title: 'bad', cell: function (r) { return fmtInt(r.bad); } },
      { title: 'bad rate', cell: function (r) { return fmtPct(ratio(r.bad, r.labelled), 2); } },
      { title: 'AUC', cell: function (r) { return fmtNum(r.auc, 3); } },
      { title: 'Gini', cell: function (r) { return fmtNum(r.gini, 3); } },
      { title: 'KS', cell: function (r) { return fmtNum(r.ks, 3); } },
      { title: 'KS at score', cell: function (r) { return fmtNum(r.ks_score, 4); } }
    ], models);

    models.forEach(function (model, i) {
      var name = text(model.name) || 'model ' + (i + 1);
      var box = panel(s, name, [text(model.score) ? el('span', { class: 'muted' }, ['score ' + text(model.score)]) : null]);
      var g = grid(box, 'three');
      [
        [rocSpec(model, name), 'No ROC curve: the model needs labelled goods and bads.'],
        [ksSpec(model, name), 'No KS curves: the model needs labelled goods and bads.'],
        [histogramSpec(model, name), 'No score histogram.']
      ].forEach(function (pair) {
        var cell = el('div');
        g.appendChild(cell);
        if (pair[0]) chart(cell, pair[0]);
        else emptyNote(cell, pair[1]);
      });
    });
  }

  // ---- swap --------------------------------------------------------------

  function drawSwap(root, m, policies, ctx) {
    var s = section(root, 'Champion against challenger',
      'The same records decided by both policies. Swap-in: accepted by the challenger, not by the champion; ' +
      'swap-out: accepted by the champion, not by the challenger. A challenger wins when its swap-in bad rate is below its swap-out bad rate.');
    if (m.swap === null || m.swap === undefined || typeof m.swap !== 'object') {
      emptyNote(s, policies.length > 1 ? 'These metrics hold no swap analysis.' : 'The pipeline has no challenger policy, so there is no swap analysis.');
      return;
    }
    var swap = record(m.swap);
    var champion = text(swap.champion) || 'champion';
    var challenger = text(swap.challenger) || 'challenger';
    s.appendChild(el('p', { class: 'note' }, ['Champion ', el('b', null, [champion]), ', challenger ', el('b', null, [challenger]), '.']));

    var tiles = el('div', { class: 'tiles' });
    s.appendChild(tiles);
    [['Swap-in', record(swap.swap_in), 'accepted by ' + challenger + ' only'], ['Swap-out', record(swap.swap_out), 'accepted by ' + champion + ' only']]
      .forEach(function (t) {
        var f = t[1];
        var badRate = isNum(f.bad_rate) ? f.bad_rate : ratio(f.bad, f.labelled);
        tile(tiles, t[0] + ' (' + t[2] + ')', fmtInt(f.count),
          fmtInt(f.labelled) + ' labelled, ' + fmtInt(f.bad) + ' bad, bad rate ' + fmtPct(badRate, 2));
      });
    var inCount = num(record(swap.swap_in).count);
    var outCount = num(record(swap.swap_out).count);
    if (inCount !== null && outCount !== null) {
      var net = inCount - outCount;
      tile(tiles, 'Net change in accepted', (net > 0 ? '+' : '') + fmtInt(net), challenger + ' against ' + champion);
    }

    var cells = list(swap.matrix).map(record).filter(function (c) { return isNum(c.count) && c.count > 0; }).map(function (c) {
      var badRate = ratio(c.bad, c.labelled);
      return {
        champion: text(c.champion), challenger: text(c.challenger), count: c.count,
        labelled: num(c.labelled), bad: num(c.bad), bad_rate: badRate,
        caption: badRate !== null ? 'bad ' + fmtPct(badRate, 1) : ''
      };
    });
    var box = panel(s);
    if (!cells.length) {
      emptyNote(box, 'The swap matrix is empty.');
      return;
    }
    var counts = cells.map(function (c) { return c.count; });
    var lo = Math.min.apply(null, counts);
    var hi = Math.max.apply(null, counts);
    var dark = hi > lo ? Math.exp(Math.log(lo) + 0.6 * (Math.log(hi) - Math.log(lo))) : hi + 1;
    var order = ctx.actions.slice();
    cells.forEach(function (c) {
      if (order.indexOf(c.champion) < 0) order.push(c.champion);
      if (order.indexOf(c.challenger) < 0) order.push(c.challenger);
    });
    var textColor = { condition: { test: 'datum.count >= ' + dark, value: '#ffffff' }, value: '#1f2430' };
    chart(box, {
      title: { text: 'Swap matrix', subtitle: 'records by the action of ' + champion + ' (rows) and of ' + challenger + ' (columns); colour on a log scale' },
      width: 'container', height: Math.max(120, 56 * order.length),
      data: { values: cells },
      encoding: {
        x: { field: 'challenger', type: 'nominal', sort: order, title: challenger + ' (challenger)', axis: { orient: 'top', labelAngle: 0, labelFontSize: 12, domain: false, ticks: false } },
        y: { field: 'champion', type: 'nominal', sort: order, title: champion + ' (champion)', axis: { labelFontSize: 12, domain: false, ticks: false } }
      },
      layer: [
        {
          mark: { type: 'rect', stroke: '#fff', strokeWidth: 2 },
          encoding: {
            color: { field: 'count', type: 'quantitative', scale: { type: 'log', scheme: 'blues' }, legend: null },
            tooltip: [
              { field: 'champion', title: champion }, { field: 'challenger', title: challenger },
              { field: 'count', title: 'records', format: ',d' }, { field: 'labelled', title: 'labelled', format: ',d' },
              { field: 'bad', title: 'bad', format: ',d' }, { field: 'bad_rate', title: 'bad rate', format: '.2%' }
            ]
          }
        },
        { mark: { type: 'text', fontSize: 13, fontWeight: 600, dy: -7 }, encoding: { text: { field: 'count', format: ',d' }, color: textColor } },
        { mark: { type: 'text', fontSize: 10, dy: 9 }, encoding: { text: { field: 'caption' }, color: textColor } }
      ]
    });
  }

  // ---- page ----------------------------------------------------------------

  function main() {
    var source = document.getElementById('sluice-metrics');
    var m;
    try {
      m = JSON.parse(source ? source.textContent : '');
    } catch (err) {
      fatal('The metrics of this report are not valid JSON: ' + err.message);
      return;
    }
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      fatal('The metrics of this report are not a JSON object.');
      return;
    }
    if (typeof window.vegaEmbed !== 'function') {
      fatal('The charting library did not load; the report cannot draw its charts.');
      return;
    }
    var policies = list(m.policies).map(record);
    var models = list(m.models).map(record);
    var names = policies.map(policyName);
    var actions = actionNames(policies);
    var accept = list(m.accept_actions).map(text);
    var ctx = {
      policyNames: names, policyColors: policyColors(policies), actions: actions, accept: accept
    };
    var root = document.getElementById('report');
    drawHeader(m);
    drawTotals(root, m, policies, models);
    drawPolicies(root, m, policies, ctx);
    drawOverTime(root, m, policies, ctx);
    drawReasons(root, policies, ctx);
    drawModels(root, policies, models, ctx);
    drawSwap(root, m, policies, ctx);
    drawCharts().then(finish);
  }

  try {
    main();
  } catch (err) {
    fatal('The report could not be built: ' + (err && err.stack ? err.stack : err));
  }
})();
