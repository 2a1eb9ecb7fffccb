// The master-worker dashboard page: plain JavaScript, no framework, no build step.
// Reads the REST API of apps/master-worker/DESIGN.md and follows /api/events (Server-Sent
// Events) to update live; every REST view is re-fetched on events, throttled.
'use strict';

(() => {
  const LOG_CAP = 200; // event log entries kept
  const CHART_SECONDS = 60; // the chart's window
  const HISTORY_PAGE = 10;
  const TASKS_LIMIT = 12;
  const TASK_EVENT_STATES = ['pending', 'assigned', 'running', 'done', 'failed'];

  const $ = (id) => document.getElementById(id);

  // ---- small helpers ----------------------------------------------------------------------

  /** Creates an element with attributes and children (strings become text: never HTML). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  /** task-0000000042 -> #42 (the full id stays in a title and data attribute). */
  function shortId(id) {
    const m = /^task-(\d+)$/.exec(id || '');
    return m ? '#' + String(Number(m[1])) : String(id ?? '');
  }

  function taskRef(id) {
    return el('span', { class: 'task-ref', title: id, 'data-task-id': id }, shortId(id));
  }

  const clock = new Intl.DateTimeFormat(undefined, {
    hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  });
  const fmtTime = (ms) => (ms ? clock.format(new Date(ms)) : '–');

  function fmtDuration(ms) {
    if (ms === null || ms === undefined || !isFinite(ms) || ms < 0) return '–';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
    const m = Math.floor(ms / 60000);
    if (m < 60) return `${m} min ${Math.floor((ms % 60000) / 1000)} s`;
    return `${Math.floor(m / 60)} h ${m % 60} min`;
  }

  const nf = new Intl.NumberFormat();
  const fmtNum = (n) => (typeof n === 'number' && isFinite(n) ? nf.format(n) : '–');

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  /** fetch + JSON; a non-2xx answer throws ApiError with the API's {"error": ...} message. */
  async function api(path, options) {
    let resp;
    try {
      resp = await fetch(path, {
        cache: 'no-store',
        ...options,
        headers: { Accept: 'application/json', ...(options && options.headers) },
      });
    } catch (e) {
      throw new ApiError(`cannot reach the dashboard (${e.message})`, 0);
    }
    let body = null;
    const text = await resp.text();
    if (text) {
      try { body = JSON.parse(text); } catch { body = null; }
    }
    if (!resp.ok) {
      const msg = body && typeof body.error === 'string' ? body.error : `HTTP ${resp.status}`;
      throw new ApiError(msg, resp.status);
    }
    return body;
  }

  /**
   * Runs fn at most once per `ms`, never twice at once, and always once more after the last
   * call (a trailing run), so the view ends up current however the calls bunch up.
   */
  function throttle(fn, ms) {
    let last = 0;
    let timer = null;
    let running = false;
    let again = false;
    async function run() {
      timer = null;
      if (running) { again = true; return; }
      running = true;
      last = Date.now();
      try { await fn(); } catch (e) { noteError(e); } finally {
        running = false;
        if (again) { again = false; trigger(); }
      }
    }
    function trigger() {
      if (timer) return;
      timer = setTimeout(run, Math.max(0, last + ms - Date.now()));
    }
    return trigger;
  }

  let lastOk = 0;
  function noteOk() {
    lastOk = Date.now();
    $('last-update').textContent = `updated ${fmtTime(lastOk)}`;
  }
  function noteError(e) {
    if (!(e instanceof ApiError)) console.error(e);
    $('last-update').textContent = `update failed: ${e.message}`;
  }

  // ---- summary and counts -----------------------------------------------------------------

  const COUNT_IDS = ['pending', 'assigned', 'running', 'done', 'failed'];

  function setCount(id, value) {
    const node = $(id);
    const text = fmtNum(value);
    if (node.textContent !== text) {
      node.textContent = text;
      node.dataset.value = String(value ?? '');
      node.classList.remove('bump');
      void node.offsetWidth; // restart the animation
      node.classList.add('bump');
    }
  }

  function renderSummary(s) {
    if (!s || typeof s !== 'object') return;
    const tasks = s.tasks || {};
    for (const k of COUNT_IDS) setCount(`count-${k}`, tasks[k]);
    setCount('count-reassigned', s.reassigned);
    setCount('count-ran-twice', s.ran_twice);
    $('count-ran-twice').closest('.stat').classList.toggle('warn', (s.ran_twice || 0) > 0);
    renderMaster({ active: s.master ?? null, backups: s.backups || [] }, true);
    if (typeof s.workers === 'number') $('workers-count').textContent = String(s.workers);
    noteOk();
  }

  // ---- masters ----------------------------------------------------------------------------

  let masterSince = null;
  function renderMaster(m, fromSummary) {
    const active = $('master-active');
    if (fromSummary && (m.active || '') !== (active.dataset.value || '') && active.dataset.value !== undefined) {
      refresh.master(); // a new active master: fetch since_ms
    }
    active.textContent = m.active || 'none';
    active.classList.toggle('none', !m.active);
    active.dataset.value = m.active || '';
    if (!fromSummary) masterSince = m.since_ms ?? null;
    if (!m.active) masterSince = null;
    renderMasterSince();
    const list = $('master-backups');
    const backups = (m.backups || []).slice().sort();
    const key = backups.join('\n');
    if (list.dataset.key !== key || !list.childElementCount) {
      list.dataset.key = key;
      list.replaceChildren(...(backups.length
        ? backups.map((b) => el('li', { class: 'chip', 'data-testid': 'master-backup' }, b))
        : [el('li', { class: 'muted small' }, 'none')]));
    }
  }
  function renderMasterSince() {
    $('master-since').textContent = masterSince
      ? `active for ${fmtDuration(Date.now() - masterSince)} (since ${fmtTime(masterSince)})`
      : '';
  }

  // ---- ensemble ---------------------------------------------------------------------------

  function renderCluster(servers) {
    const rows = (servers || []).map((s) => el('tr', { 'data-role': s.role, 'data-testid': 'cluster-row' },
      el('td', { class: 'mono' }, s.server),
      el('td', {}, el('span', { class: `pill role-${s.role}` }, s.role)),
      el('td', { class: 'mono small' }, s.role === 'down' ? '–' : (s.zxid ?? '–')),
      el('td', { class: 'num' }, s.role === 'down' ? '–' : fmtNum(s.connections)),
      el('td', { class: 'num' }, s.role === 'down' || s.latency_avg_ms == null
        ? '–' : `${Number(s.latency_avg_ms).toFixed(1)} ms`)));
    $('cluster-body').replaceChildren(...(rows.length ? rows
      : [el('tr', {}, el('td', { colspan: 5, class: 'empty' }, 'No servers reported'))]));
    const up = (servers || []).filter((s) => s.role !== 'down').length;
    $('cluster-note').textContent = servers && servers.length ? `${up} of ${servers.length} up` : '';
  }

  // ---- workers ----------------------------------------------------------------------------

  function renderWorkers(workers) {
    workers = (workers || []).slice().sort((a, b) => String(a.id).localeCompare(String(b.id)));
    $('workers-count').textContent = String(workers.length);
    const rows = workers.map((w) => {
      const running = w.running || [];
      const assigned = w.assigned || [];
      const busy = Math.max(assigned.length, running.length);
      const slots = Number(w.slots) || 0;
      const pct = slots ? Math.min(100, (busy / slots) * 100) : 0;
      const waiting = assigned.filter((t) => !running.includes(t));
      return el('tr', { 'data-worker-id': w.id, 'data-testid': 'worker-row' },
        el('td', {}, el('div', { class: 'worker-id' }, w.id),
          w.host ? el('div', { class: 'muted small' }, w.host) : null),
        el('td', { class: 'load' },
          el('div', { class: 'meter', role: 'meter', 'aria-valuemin': 0, 'aria-valuemax': slots,
            'aria-valuenow': busy, 'aria-label': `${busy} of ${slots} slots busy` },
          el('span', { style: `width:${pct}%` })),
          el('div', { class: 'small muted' }, `${busy}/${slots} slots`)),
        el('td', {}, el('ul', { class: 'chips', 'data-testid': 'worker-running' },
          running.map((t) => el('li', { class: 'chip running' }, taskRef(t))),
          waiting.map((t) => el('li', { class: 'chip assigned', title: 'assigned, not started' },
            taskRef(t))),
          !running.length && !waiting.length ? el('li', { class: 'muted small' }, 'idle') : null)));
    });
    $('workers-body').replaceChildren(...(rows.length ? rows
      : [el('tr', {}, el('td', { colspan: 3, class: 'empty' }, 'No workers registered'))]));
  }

  // ---- task tables (ensemble and history) -------------------------------------------------

  function taskRow(t) {
    const took = t.finished_ms && t.started_ms ? t.finished_ms - t.started_ms : null;
    const result = t.result == null ? '' : String(t.result);
    return el('tr', { 'data-task-id': t.id, 'data-state': t.state, 'data-testid': 'task-row' },
      el('td', {}, taskRef(t.id)),
      el('td', {}, t.kind),
      el('td', { class: 'mono small clip', title: t.arg }, t.arg === '' ? '–' : t.arg),
      el('td', {}, el('span', { class: `pill state-${t.state}` }, t.state)),
      el('td', { class: 'small' }, t.worker || '–'),
      el('td', { class: `num${t.attempts > 1 ? ' warn-text' : ''}` }, fmtNum(t.attempts)),
      el('td', { class: 'small' }, fmtTime(t.submitted_ms)),
      el('td', { class: 'num small' }, took == null ? '–' : fmtDuration(took)),
      el('td', { class: 'mono small clip result', title: result }, result || '–'));
  }

  function renderTaskTable(bodyId, tasks, emptyText) {
    const rows = (tasks || []).map(taskRow);
    $(bodyId).replaceChildren(...(rows.length ? rows
      : [el('tr', {}, el('td', { colspan: 9, class: 'empty' }, emptyText))]));
  }

  let historyOffset = 0;
  let historyTotal = 0;

  async function loadHistory() {
    let page = await api(`/api/history?limit=${HISTORY_PAGE}&offset=${historyOffset}`);
    if (page.total > 0 && historyOffset >= page.total) { // the last page emptied: step back
      historyOffset = Math.max(0, Math.floor((page.total - 1) / HISTORY_PAGE) * HISTORY_PAGE);
      page = await api(`/api/history?limit=${HISTORY_PAGE}&offset=${historyOffset}`);
    }
    historyTotal = page.total || 0;
    renderTaskTable('history-body', page.tasks, 'No finished tasks archived yet');
    const from = historyTotal ? historyOffset + 1 : 0;
    const to = historyOffset + (page.tasks || []).length;
    $('history-range').textContent = historyTotal
      ? `${fmtNum(from)}–${fmtNum(to)} of ${fmtNum(historyTotal)}` : '0 of 0';
    $('history-range').dataset.offset = String(historyOffset);
    $('history-range').dataset.total = String(historyTotal);
    $('history-prev').disabled = historyOffset === 0;
    $('history-next').disabled = historyOffset + HISTORY_PAGE >= historyTotal;
    noteOk();
  }

  async function loadTasks() {
    const state = $('tasks-state').value;
    const q = `limit=${TASKS_LIMIT}${state ? `&state=${encodeURIComponent(state)}` : ''}`;
    const page = await api(`/api/tasks?${q}`);
    renderTaskTable('tasks-body', page.tasks,
      state ? `No ${state} tasks` : 'No tasks in the ensemble: finished ones move to History');
    const total = page.total || 0;
    $('tasks-note').textContent = total > TASKS_LIMIT
      ? `Newest ${TASKS_LIMIT} of ${fmtNum(total)}.` : '';
    noteOk();
  }

  // ---- the live chart ---------------------------------------------------------------------

  const chart = {
    buckets: new Map(), // second (epoch s) -> {done, failed}
    counted: new Map(), // task id -> second, so each task counts once
    total: 0,
    add(id, state) {
      if (this.counted.has(id)) return;
      const sec = Math.floor(Date.now() / 1000);
      this.counted.set(id, sec);
      if (this.counted.size > 20000) { // forget the oldest ids
        const drop = this.counted.size - 15000;
        let i = 0;
        for (const k of this.counted.keys()) { if (i++ >= drop) break; this.counted.delete(k); }
      }
      const b = this.buckets.get(sec) || { done: 0, failed: 0 };
      b[state === 'failed' ? 'failed' : 'done'] += 1;
      this.buckets.set(sec, b);
      this.total += 1;
      scheduleDraw();
    },
  };

  let drawPending = false;
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; drawChart(); });
  }

  function niceMax(v) {
    if (v <= 4) return 4;
    const p = 10 ** Math.floor(Math.log10(v));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function drawChart() {
    const canvas = $('chart');
    const css = getComputedStyle(canvas);
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    if (!w || !h) return;
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);

    const nowSec = Math.floor(Date.now() / 1000);
    for (const k of chart.buckets.keys()) if (k <= nowSec - CHART_SECONDS) chart.buckets.delete(k);
    const series = [];
    let max = 0;
    let sum = 0;
    let points = 0;
    for (let i = CHART_SECONDS - 1; i >= 0; i--) {
      const b = chart.buckets.get(nowSec - i) || { done: 0, failed: 0 };
      const n = b.done + b.failed;
      series.push(b);
      max = Math.max(max, n);
      sum += n;
      if (n) points += 1;
    }
    const top = niceMax(max);
    const color = (name) => css.getPropertyValue(name).trim();
    const padL = 30; const padR = 6; const padT = 8; const padB = 20;
    const plotW = w - padL - padR;
    const plotH = h - padT - padB;

    ctx.font = `11px ${css.fontFamily}`;
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 1;
    for (let i = 0; i <= 2; i++) { // grid lines at 0, top/2, top
      const v = (top * i) / 2;
      const y = Math.round(padT + plotH - (v / top) * plotH) + 0.5;
      ctx.strokeStyle = color('--grid');
      ctx.beginPath(); ctx.moveTo(padL, y); ctx.lineTo(w - padR, y); ctx.stroke();
      ctx.fillStyle = color('--muted');
      ctx.textAlign = 'right';
      ctx.fillText(String(Number.isInteger(v) ? v : v.toFixed(1)), padL - 6, y);
    }
    const slot = plotW / CHART_SECONDS;
    const barW = Math.max(1, slot * 0.72);
    series.forEach((b, i) => {
      const x = padL + i * slot + (slot - barW) / 2;
      const hd = (b.done / top) * plotH;
      const hf = (b.failed / top) * plotH;
      const base = padT + plotH;
      if (hd > 0) { ctx.fillStyle = color('--ok'); ctx.fillRect(x, base - hd, barW, hd); }
      if (hf > 0) { ctx.fillStyle = color('--bad'); ctx.fillRect(x, base - hd - hf, barW, hf); }
    });
    ctx.fillStyle = color('--muted');
    ctx.textBaseline = 'alphabetic';
    ctx.textAlign = 'left';
    ctx.fillText(`−${CHART_SECONDS} s`, padL, h - 5);
    ctx.textAlign = 'center';
    ctx.fillText(`−${CHART_SECONDS / 2} s`, padL + plotW / 2, h - 5);
    ctx.textAlign = 'right';
    ctx.fillText('now', w - padR, h - 5);

    const last = series[series.length - 1];
    const prev = series[series.length - 2]; // the last full second
    const rate = prev.done + prev.failed;
    const text = `${sum} in ${CHART_SECONDS} s · ${(sum / CHART_SECONDS).toFixed(1)}/s avg · ${rate}/s last`;
    $('chart-stats').textContent = text;
    canvas.dataset.points = String(points);
    canvas.dataset.total = String(chart.total);
    canvas.dataset.window = String(sum);
    canvas.setAttribute('aria-label', `Tasks completed per second over the last ${CHART_SECONDS} seconds: ${text}, ${last.done + last.failed} so far this second`);
  }

  // ---- the event log ----------------------------------------------------------------------

  const OUTCOME_TYPES = new Set(['worker_joined', 'worker_lost', 'master_elected',
    'task_reassigned', 'local']);

  function logEntry(type, summary, data) {
    const log = $('event-log');
    const quiet = type === 'task' && data && !['done', 'failed'].includes(data.state);
    const li = el('li', {
      class: `log-entry type-${type}${quiet ? ' quiet' : ''}`,
      'data-type': type,
      'data-task-id': data && data.id && type.startsWith('task') ? data.id : null,
      'data-state': data && data.state ? data.state : null,
    }, el('time', { class: 'mono small muted' }, fmtTime(Date.now())), ' ', summary);
    log.prepend(li);
    while (log.childElementCount > LOG_CAP) log.lastElementChild.remove();
  }

  function describeEvent(type, d) {
    switch (type) {
      case 'task': {
        const parts = [el('span', { class: `pill state-${d.state}` }, d.state), ' ', taskRef(d.id)];
        if (d.worker && d.state !== 'pending') parts.push(el('span', { class: 'muted' }, ` on ${d.worker}`));
        return parts;
      }
      case 'worker_joined':
        return [el('span', { class: 'pill ev-join' }, 'joined'), ' worker ', el('b', {}, d.id)];
      case 'worker_lost':
        return [el('span', { class: 'pill ev-lost' }, 'lost'), ' worker ', el('b', {}, d.id)];
      case 'master_elected':
        return [el('span', { class: 'pill ev-master' }, 'elected'), ' master ', el('b', {}, d.id)];
      case 'task_reassigned':
        return [el('span', { class: 'pill ev-reassign' }, 'reassigned'), ' ', taskRef(d.id),
          el('span', { class: 'muted' }, ` from ${d.from}`)];
      default:
        return [type];
    }
  }

  // ---- refreshing -------------------------------------------------------------------------

  const refresh = {
    summary: throttle(async () => renderSummary(await api('/api/summary')), 1000),
    master: throttle(async () => renderMaster(await api('/api/master'), false), 1000),
    workers: throttle(async () => { renderWorkers(await api('/api/workers')); noteOk(); }, 400),
    cluster: throttle(async () => { renderCluster(await api('/api/cluster')); noteOk(); }, 2000),
    tasks: throttle(loadTasks, 500),
    history: throttle(loadHistory, 1500),
  };
  let historyLater = null;
  function refreshAll() { for (const f of Object.values(refresh)) f(); }

  function onEvent(type, raw) {
    let d;
    try { d = JSON.parse(raw); } catch { return; }
    if (!d || typeof d !== 'object') return;
    switch (type) {
      case 'summary':
        renderSummary(d);
        return;
      case 'task':
        if (!d.id || !TASK_EVENT_STATES.includes(d.state)) return;
        if (d.state === 'done' || d.state === 'failed') {
          chart.add(d.id, d.state);
          refresh.history(); // archived soon after it finished: look now and a bit later
          clearTimeout(historyLater);
          historyLater = setTimeout(() => refresh.history(), 2500);
        }
        refresh.workers();
        refresh.tasks();
        refresh.summary(); // in case no summary event follows
        break;
      case 'worker_joined':
      case 'worker_lost':
        refresh.workers();
        refresh.summary();
        refresh.cluster();
        break;
      case 'master_elected':
        refresh.master();
        refresh.summary();
        break;
      case 'task_reassigned':
        refresh.workers();
        refresh.tasks();
        refresh.summary();
        break;
      default:
        return;
    }
    logEntry(type, describeEvent(type, d), d);
  }

  // ---- the event stream, reconnecting -----------------------------------------------------

  let source = null;
  let retryMs = 1000;
  let retryTimer = null;
  let everOpen = false;

  function setConn(state, text) {
    const badge = $('conn-badge');
    badge.dataset.state = state;
    badge.textContent = text;
    document.body.dataset.conn = state;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (source) source.close();
    if (!everOpen) setConn('connecting', 'Connecting…');
    const es = new EventSource('/api/events');
    source = es;
    es.onopen = () => {
      if (source !== es) return;
      retryMs = 1000;
      setConn('live', 'Live');
      if (everOpen) logEntry('local', [el('span', { class: 'pill ev-local' }, 'stream'), ' reconnected'], null);
      everOpen = true;
      refreshAll(); // whatever happened while the stream was down
    };
    es.onerror = () => {
      if (source !== es) return;
      setConn('reconnecting', 'Reconnecting…');
      if (es.readyState === EventSource.CLOSED) { // the browser gave up (e.g. HTTP 5xx): retry
        es.close();
        source = null;
        retryTimer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 15000);
      } // CONNECTING: the browser retries by itself
    };
    for (const type of ['task', 'worker_joined', 'worker_lost', 'master_elected',
      'task_reassigned', 'summary']) {
      es.addEventListener(type, (ev) => { if (source === es) onEvent(type, ev.data); });
    }
  }

  // ---- the submit form --------------------------------------------------------------------

  const ARG_HINTS = {
    sleep: ['Milliseconds to sleep (0–600000).', '500'],
    hash: ['Bytes to hash with SHA-256 (1–1000000000).', '1000000'],
    fail: ['Always fails; the argument is ignored.', ''],
  };
  let lastKind = 'sleep';

  function onKindChange() {
    const kind = $('submit-kind').value;
    const arg = $('submit-arg');
    const [hint, example] = ARG_HINTS[kind] || ['', ''];
    // Swap in the new kind's example unless the user typed something of their own.
    if (arg.value === (ARG_HINTS[lastKind] || [])[1]) arg.value = example;
    arg.placeholder = example || 'ignored';
    $('submit-arg-hint').textContent = hint;
    lastKind = kind;
  }

  async function onSubmit(ev) {
    ev.preventDefault();
    const kind = $('submit-kind').value;
    const arg = $('submit-arg').value.trim();
    const countInput = $('submit-count');
    const count = Number(countInput.value);
    const result = $('submit-result');
    const error = $('submit-error');
    error.textContent = '';
    if (!Number.isInteger(count) || count < 1 || count > 500) {
      error.textContent = 'Count must be a whole number from 1 to 500.';
      countInput.focus();
      return;
    }
    const button = $('submit-button');
    button.disabled = true;
    button.textContent = count > 1 ? `Submitting ${count}…` : 'Submitting…';
    const ids = [];
    let failure = null;
    let next = 0;
    // The API creates one task per POST: send them 4 at a time, stop at the first refusal.
    async function lane() {
      while (!failure && next < count) {
        next += 1;
        try {
          const r = await api('/api/tasks', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ kind, arg }),
          });
          if (r && r.id) ids.push(r.id);
        } catch (e) {
          failure = failure || e;
        }
      }
    }
    try {
      await Promise.all(Array.from({ length: Math.min(4, count) }, lane));
    } finally {
      button.disabled = false;
      button.textContent = 'Submit';
    }
    ids.sort();
    if (ids.length) {
      const shown = ids.slice(0, 12);
      result.replaceChildren(
        el('span', {}, `Created ${ids.length} task${ids.length > 1 ? 's' : ''}: `),
        el('span', { class: 'created', 'data-testid': 'created-ids' },
          shown.map((id) => el('span', { class: 'chip', 'data-task-id': id, title: id }, id))),
        ...(ids.length > shown.length
          ? [el('span', { class: 'muted' }, ` and ${ids.length - shown.length} more`)] : []));
      result.dataset.ids = ids.join(' ');
    } else {
      result.replaceChildren();
      result.dataset.ids = '';
    }
    if (failure) {
      const prefix = failure.status ? `${failure.status}: ` : '';
      error.textContent = `${prefix}${failure.message}`;
      error.dataset.status = String(failure.status || '');
    }
    refresh.summary();
    refresh.tasks();
  }

  // ---- start ------------------------------------------------------------------------------

  function start() {
    $('submit-form').addEventListener('submit', onSubmit);
    $('submit-kind').addEventListener('change', onKindChange);
    onKindChange();
    $('tasks-state').addEventListener('change', () => refresh.tasks());
    $('history-prev').addEventListener('click', () => {
      historyOffset = Math.max(0, historyOffset - HISTORY_PAGE);
      loadHistory().catch(noteError);
    });
    $('history-next').addEventListener('click', () => {
      if (historyOffset + HISTORY_PAGE < historyTotal) historyOffset += HISTORY_PAGE;
      loadHistory().catch(noteError);
    });
    $('log-quiet').addEventListener('change', (e) => {
      $('event-log').classList.toggle('quiet-hidden', e.target.checked);
    });
    if ('ResizeObserver' in window) new ResizeObserver(scheduleDraw).observe($('chart'));
    refreshAll();
    connect();
    setInterval(() => { drawChart(); renderMasterSince(); }, 1000);
    // Safety nets: roles change without events, and an event may be missed.
    setInterval(() => refresh.cluster(), 5000);
    setInterval(() => { refresh.summary(); refresh.workers(); refresh.master(); refresh.history(); }, 15000);
    window.addEventListener('beforeunload', () => { if (source) source.close(); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
