// Shelf web app: small progressive enhancements over server-rendered pages.
// Changes go through the JSON API (docs/api.md); live updates arrive as
// server-sent events from /api/v1/events.
(() => {
  'use strict';

  const body = document.body;
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const signedIn = body.dataset.signedIn === 'true';
  const canEdit = body.dataset.role === 'admin' || body.dataset.role === 'editor';

  function csrfToken() {
    if (body.dataset.csrf) return body.dataset.csrf;
    const m = document.cookie.match(/(?:^|;\s*)shelf_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : '';
  }

  // ---- API calls -------------------------------------------------------

  // api calls the JSON API and resolves to {ok, status, data, error};
  // it never rejects, so callers show every failure to the user.
  async function api(method, path, payload) {
    const opts = { method, headers: { 'Accept': 'application/json' }, credentials: 'same-origin' };
    if (method !== 'GET' && method !== 'HEAD') opts.headers['X-CSRF-Token'] = csrfToken();
    if (payload !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(payload);
    }
    let res;
    try {
      res = await fetch('/api/v1' + path, opts);
    } catch (e) {
      return { ok: false, status: 0, data: null, error: { code: 'network', message: 'Shelf could not be reached; check your connection and try again.' } };
    }
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    const error = res.ok ? null : ((data && data.error) || { code: 'http_' + res.status, message: 'The server answered ' + res.status + '.' });
    if (res.status === 401 && signedIn) {
      location.href = '/signin?next=' + encodeURIComponent(location.pathname + location.search);
    }
    if (res.status === 423) showLocked(error);
    return { ok: res.ok, status: res.status, data, error, headers: res.headers };
  }

  // ---- Toasts ------------------------------------------------------------

  function toast(message, kind = 'info', timeoutMs = 8000) {
    const box = $('#toasts');
    if (!box) return;
    const el = document.createElement('div');
    el.className = 'toast ' + kind;
    el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    const p = document.createElement('p');
    p.textContent = message;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'link';
    close.textContent = 'Dismiss';
    close.addEventListener('click', () => el.remove());
    el.append(p, close);
    box.append(el);
    if (timeoutMs > 0) setTimeout(() => el.remove(), timeoutMs);
    return el;
  }

  function showLocked(error) {
    const msg = (error && error.message) || 'The library is locked while a sync runs; try again when it completes.';
    toast(msg, 'error', 12000);
    setLocked(true, error && error.sync_run_id ? { id: error.sync_run_id } : null);
  }

  // ---- Dialogs -------------------------------------------------------------

  // shorten keeps a name readable in a one-line message.
  function shorten(text, max = 60) {
    return text.length > max ? text.slice(0, max - 1) + '…' : text;
  }

  // extensionOf is a file name's extension with its dot ('' when none).
  function extensionOf(name) {
    const dot = name.lastIndexOf('.');
    return dot > 0 ? name.slice(dot).toLowerCase() : '';
  }

  const MAX_NAME_BYTES = 255; // storage.MaxNameBytes

  // nameProblem is what is wrong with a new name, in words, or ''.
  function nameProblem(name) {
    if (name.trim() === '') return 'Enter a name; a name of only spaces cannot be used.';
    const bytes = new TextEncoder().encode(name.trim()).length;
    if (bytes > MAX_NAME_BYTES) return 'The name is ' + fmtNum(bytes) + ' bytes long; the limit is ' + MAX_NAME_BYTES + '. Shorten it.';
    if (name.includes('/')) return 'A name cannot contain “/”.';
    return '';
  }

  // askName shows a modal dialog for a file or folder name. On OK it checks
  // the name, then calls submit(name), which resolves to an api() result:
  // the dialog closes when it succeeds (or the library is locked) and
  // otherwise stays open with the error at the field. With file set, the
  // name is selected without its extension and changing the extension
  // needs a second OK. Resolves to the name saved, or null.
  function askName({ title, label, value = '', okText = 'Save', file = false, submit }) {
    return new Promise((resolve) => {
      const d = document.createElement('dialog');
      d.setAttribute('aria-labelledby', 'ask-title');
      d.innerHTML = '<form method="dialog" class="stack" novalidate><h2 id="ask-title"></h2><div class="field"><label for="ask-input"></label><input id="ask-input" name="name" autocomplete="off" spellcheck="false"><p class="field-warning" id="ask-warning" role="status" hidden></p><p class="field-error" id="ask-error" role="alert" hidden></p></div><div class="row"><button value="ok" class="primary"></button><button value="cancel" type="button" class="cancel">Cancel</button></div></form>';
      $('h2', d).textContent = title;
      $('label', d).textContent = label;
      const form = $('form', d);
      const input = $('input', d);
      const error = $('#ask-error', d);
      const warning = $('#ask-warning', d);
      const ok = $('button.primary', d);
      input.value = value;
      ok.textContent = okText;
      let saved = null;
      let warnedFor = null;
      const show = (el, msg) => {
        el.textContent = msg;
        el.hidden = false;
      };
      const clear = () => {
        error.hidden = true; error.textContent = '';
        warning.hidden = true; warning.textContent = '';
        input.removeAttribute('aria-invalid');
        input.removeAttribute('aria-describedby');
        ok.textContent = okText;
      };
      const fail = (msg) => {
        show(error, msg);
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-describedby', 'ask-error');
        input.focus();
      };
      input.addEventListener('input', () => { if (input.value !== warnedFor) { clear(); warnedFor = null; } });
      $('.cancel', d).addEventListener('click', () => d.close('cancel'));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const name = input.value.trim();
        const problem = nameProblem(input.value);
        if (problem) { clear(); fail(problem); return; }
        if (name === value) { d.close('cancel'); return; }
        if (file && value && extensionOf(name) !== extensionOf(value) && warnedFor !== input.value) {
          clear();
          const from = extensionOf(value) || 'no extension', to = extensionOf(name) || 'no extension';
          show(warning, 'This changes the extension from “' + from + '” to “' + to + '”; apps may no longer open the file. Select “' + okText + ' anyway” to change it.');
          input.setAttribute('aria-describedby', 'ask-warning');
          ok.textContent = okText + ' anyway';
          warnedFor = input.value;
          return;
        }
        ok.disabled = true;
        const r = await submit(name);
        ok.disabled = false;
        if (r.ok || r.status === 423) { if (r.ok) saved = name; d.close('ok'); return; }
        fail(r.error.message);
      });
      d.addEventListener('close', () => { d.remove(); resolve(saved); });
      body.append(d);
      d.showModal();
      const dot = file ? value.lastIndexOf('.') : -1;
      if (dot > 0) input.setSelectionRange(0, dot); else input.select();
    });
  }

  // confirmDialog asks a yes/no question; resolves to true on yes.
  function confirmDialog(message, okText = 'Delete') {
    return new Promise((resolve) => {
      const d = document.createElement('dialog');
      d.setAttribute('role', 'alertdialog');
      d.innerHTML = '<form method="dialog" class="stack"><p></p><div class="row"><button value="ok" class="danger"></button><button value="cancel" class="cancel" autofocus>Cancel</button></div></form>';
      $('p', d).textContent = message;
      $('button.danger', d).textContent = okText;
      d.addEventListener('close', () => { const ok = d.returnValue === 'ok'; d.remove(); resolve(ok); });
      body.append(d);
      d.showModal();
    });
  }

  // ---- Form helpers --------------------------------------------------------

  function clearErrors(form) {
    $$('.field-error, .form-error', form).forEach((el) => { el.hidden = true; el.textContent = ''; });
    $$('[aria-invalid]', form).forEach((el) => el.removeAttribute('aria-invalid'));
  }

  // showErrors places an API error beside the fields it names (field /
  // fields), else in the form's general error line.
  function showErrors(form, error, prefix = '') {
    const fields = Object.assign({}, (error && error.fields) || {});
    if (error && error.field && !fields[error.field]) fields[error.field] = error.message;
    let placed = false;
    const unplaced = [];
    for (const [name, msg] of Object.entries(fields)) {
      const el = document.getElementById((prefix ? prefix + '-' : '') + name + '-error');
      if (!el) { unplaced.push(msg); continue; }
      const input = form.querySelector('[name="' + name + '"]');
      el.textContent = inWords(msg, name, input);
      el.hidden = false;
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.setAttribute('aria-errormessage', el.id);
        if (!placed) input.focus();
      }
      placed = true;
    }
    if (!placed || unplaced.length) {
      const text = placed ? unplaced.join(' ') : ((error && error.message) || 'Something went wrong.');
      const el = $('.form-error', form) || $('#storage-error');
      if (el) {
        el.textContent = text;
        el.hidden = false;
      } else {
        toast(text, 'error');
      }
    }
  }

  // inWords puts the field's label where a message starts with the API's
  // name of the field ("account_name is required" → "Team name is
  // required"), since people know the form, not the API.
  function inWords(msg, name, input) {
    const label = input && input.labels && input.labels[0] ? input.labels[0].textContent.trim() : '';
    if (!label || !msg.startsWith(name + ' ')) return msg;
    return label + msg.slice(name.length);
  }

  function formValues(form) {
    const out = {};
    for (const el of form.elements) {
      if (!el.name || el.disabled) continue;
      if (el.type === 'checkbox') {
        if (el.name === 'events') { (out.events = out.events || []); if (el.checked) out.events.push(el.value); } else out[el.name] = el.checked;
      } else if (el.value.trim() !== '') out[el.name] = el.value.trim();
    }
    return out;
  }

  function busy(form, on) {
    $$('button[type=submit], button:not([type])', form).forEach((b) => { b.disabled = on || (b.hasAttribute('data-change') && body.dataset.locked === 'true'); });
  }

  // ---- The sync lock and live progress -------------------------------------

  let currentRun = null;

  // The words for runs; internal/web/runtext.go says the same on the server.
  const fmtNum = (n) => Number(n || 0).toLocaleString('en');
  const STATE_LABEL = { queued: 'Queued', running: 'Running', succeeded: 'Succeeded', failed: 'Failed',
    needs_confirmation: 'Stopped: waiting for an admin to confirm removals' };
  const PHASE_LABEL = { queued: 'Waiting to start', starting: 'Starting', listing: 'Listing the storage',
    applying: 'Applying changes', done: 'Done' };
  const PHASES = ['queued', 'starting', 'listing', 'applying', 'done'];
  const TRIGGER_LABEL = { manual: 'Manual', auto: 'Automatic', initial: 'On connect', live: 'Live changes (hourly total)', cli: 'Command line' };

  function changes(c) { return (c.added || 0) + (c.updated || 0) + (c.moved || 0) + (c.removed || 0); }

  function countsText(c, seenText) {
    if (!c) return '';
    let t = (seenText || fmtNum(c.seen) + ' seen') + ' · ' + fmtNum(c.added) + ' added · ' + fmtNum(c.updated) + ' updated · ' +
      fmtNum(c.moved) + ' moved · ' + fmtNum(c.removed) + ' removed';
    if (c.errors) t += ' · ' + fmtNum(c.errors) + ' errors';
    return t;
  }

  function timeLeft(secs) {
    if (secs < 60) return 'about ' + secs + ' s left';
    const mins = Math.ceil(secs / 60);
    if (mins < 60) return 'about ' + mins + ' min left';
    return 'about ' + Math.floor(mins / 60) + ' h ' + (mins % 60) + ' min left';
  }

  // progressText is a running sync's progress: phase, counts (against the
  // estimate, as "about"), rate and time left.
  function progressText(run) {
    const c = run.counts || {};
    const parts = [];
    if (run.phase === 'applying' && run.apply_total != null) parts.push(fmtNum(changes(c)) + ' of about ' + fmtNum(run.apply_total) + ' changes');
    let seen = fmtNum(c.seen) + ' seen';
    if (run.phase === 'listing' && run.estimate != null) seen += ' of about ' + fmtNum(run.estimate);
    parts.push(countsText(c, seen));
    if (run.rate_per_second != null) parts.push(fmtNum(Math.round(run.rate_per_second)) + ' a second');
    if (run.eta_seconds != null) parts.push(timeLeft(run.eta_seconds));
    return (PHASE_LABEL[run.phase] || 'Syncing') + ': ' + parts.join(' · ');
  }

  // Progress of a run arrives from the live events and from the server's
  // run row (reconcile), which may lag behind them: only a report at least
  // as far along as the last one shown is taken, so the page never goes
  // back. Counters only grow within a run, phases only move on.
  const latestRuns = new Map();

  function progressRank(run) {
    const ended = run.state && run.state !== 'running' && run.state !== 'queued';
    return [ended ? PHASES.length : Math.max(0, PHASES.indexOf(run.phase)), run.counts ? (run.counts.seen || 0) + changes(run.counts) + (run.counts.errors || 0) : -1];
  }

  function freshest(run) {
    if (!run || !run.id || !run.state) return run;
    const prev = latestRuns.get(run.id);
    if (prev) {
      const [pa, ca] = progressRank(run), [pb, cb] = progressRank(prev);
      if (pa < pb || (pa === pb && ca < cb)) return prev;
    }
    latestRuns.set(run.id, run);
    return run;
  }

  function setLocked(locked, run) {
    body.dataset.locked = locked ? 'true' : 'false';
    if (locked && run && run.id) { currentRun = run.id; body.dataset.run = run.id; }
    if (!locked) { currentRun = null; delete body.dataset.run; }
    const banner = $('#sync-banner');
    if (banner) banner.hidden = !locked;
    const shown = freshest(run);
    if (locked && shown && shown.counts) {
      const p = $('#sync-progress');
      if (p) p.textContent = progressText(shown);
    }
    if (shown && shown.state) showRunRow(shown);
    $$('[data-change]').forEach((el) => { el.disabled = locked; });
    const syncNow = $('#sync-now');
    if (syncNow) syncNow.disabled = locked || syncNow.dataset.cooldown === 'true';
    if (locked) showManualRunning();
  }

  // showManualRunning says, on the Sync page, that no manual sync is
  // offered while one runs.
  function showManualRunning() {
    const el = $('#sync-manual');
    if (!el || el.dataset.running === 'true') return;
    if (countdown) { clearInterval(countdown); countdown = null; }
    el.dataset.running = 'true';
    el.textContent = 'Not now: a sync is running. Sync now is offered again when it ends.';
  }

  function fillTime(td, iso) {
    td.replaceChildren();
    if (!iso) { td.textContent = '—'; return; }
    const t = document.createElement('time');
    t.setAttribute('datetime', iso);
    t.dataset.local = '1';
    t.title = iso;
    t.textContent = fmtTime(iso);
    td.append(t);
  }

  // showRunRow puts a run in the Sync page's History (newest first) or
  // updates its row, so the running run is there from its start.
  function showRunRow(run) {
    const tbody = $('#runs');
    if (!tbody || !run.id) return;
    let tr = $('tr[data-run="' + run.id + '"]', tbody);
    if (!tr) {
      tr = document.createElement('tr');
      tr.dataset.run = run.id;
      for (let i = 0; i < 6; i++) tr.append(document.createElement('td'));
      tr.cells[0].textContent = run.id;
      $$('.empty-row', tbody).forEach((r) => r.remove());
      const older = $$('tr[data-run]', tbody).find((r) => Number(r.dataset.run) < run.id);
      tbody.insertBefore(tr, older || null);
    }
    const cells = tr.cells;
    if (run.trigger) cells[1].textContent = TRIGGER_LABEL[run.trigger] || run.trigger;
    const state = document.createElement('span');
    state.className = 'state state-' + run.state;
    state.textContent = STATE_LABEL[run.state] || run.state;
    cells[2].replaceChildren(state);
    if (run.state === 'running' && PHASE_LABEL[run.phase]) cells[2].append(' · ' + PHASE_LABEL[run.phase].toLowerCase());
    if (run.error && run.state !== 'needs_confirmation') {
      const err = document.createElement('span');
      err.className = 'muted';
      err.textContent = run.error;
      cells[2].append(document.createElement('br'), err);
    }
    if (run.started_at !== undefined) fillTime(cells[3], run.started_at);
    if (run.finished_at !== undefined) fillTime(cells[4], run.finished_at);
    if (run.counts) cells[5].textContent = countsText(run.counts);
  }

  const announced = new Set();

  function runFinished(run, type) {
    if (run && run.id) {
      if (announced.has(run.id)) return;
      announced.add(run.id);
    }
    setLocked(false, run);
    const note = $('#sync-now-msg');
    if (note) note.textContent = '';
    const manual = $('#sync-manual');
    if (manual) delete manual.dataset.running;
    if (type === 'sync.failed' || (run && run.state === 'failed')) {
      toast('Sync failed' + (run && run.error ? ': ' + run.error : '.') + ' The library is unlocked.', 'error', 15000);
    } else if (type === 'sync.needs_confirmation' || (run && run.state === 'needs_confirmation')) {
      toast('Sync stopped before removing many files; an admin must confirm it on the Sync page.', 'error', 15000);
    } else {
      const c = run && run.counts;
      const changed = c ? changes(c) : 0;
      toast('Sync completed: ' + (c ? (changed === 0 ? 'nothing changed' : countsText(c)) : 'done') + '.', 'ok', 15000);
    }
    refreshView();
    loadNotifications();
  }

  let assetRefresh = null;

  function handleEvent(ev) {
    const run = ev.run || (ev.data && ev.data.id ? ev.data : null);
    switch (ev.type) {
      case 'sync.started':
      case 'sync.progress':
        if (run && run.state && run.state !== 'running' && run.state !== 'queued') return runFinished(run, ev.type);
        setLocked(true, run);
        break;
      case 'sync.completed':
      case 'sync.failed':
      case 'sync.needs_confirmation':
        runFinished(run, ev.type);
        break;
      case 'asset.updated':
        // A preview was made (or could not be): swap it in where shown.
        if (ev.data && ev.data.preview_version) { showPreview(ev.data); break; }
        // falls through
      case 'library.changed':
      case 'asset.created':
      case 'asset.moved':
      case 'asset.deleted':
        // Someone changed the library: show it, once per burst of changes.
        if ($('.library') && body.dataset.locked !== 'true') {
          clearTimeout(assetRefresh);
          // A live batch is already coalesced on the server: show it at once.
          assetRefresh = setTimeout(refreshView, ev.type === 'library.changed' ? 100 : 800);
        } else if ($('#sync-live') && ev.type === 'library.changed') {
          // The Sync page: the last change and the hour's live row.
          clearTimeout(assetRefresh);
          assetRefresh = setTimeout(refreshView, 300);
        }
        break;
      case 'notification':
        bumpUnread(1);
        if (ev.notification && ev.notification.kind && !String(ev.notification.kind).startsWith('sync.')) toast(ev.notification.message || 'New notification');
        if (location.pathname === '/notifications') loadNotifications();
        break;
    }
  }

  // showPreview puts an asset's new preview state on the page: the
  // thumbnail under its new versioned URL (the browser fetches it, not the
  // icon it kept), and "Processing…" or the reason there is no preview.
  function showPreview(a) {
    const thumb = '/api/v1/assets/' + a.id + '/thumb?v=' + encodeURIComponent(a.preview_version);
    $$('[data-asset="' + a.id + '"]').forEach((el) => {
      const img = $('img.thumb, img.icon-thumb', el);
      if (img) img.src = thumb;
      if (el.dataset.preview !== undefined) el.dataset.preview = a.preview_state;
      const status = $('.preview-status', el);
      if (status) previewStatus(status, a);
    });
    const fig = $('.asset-page[data-asset="' + a.id + '"] figure.preview');
    if (!fig) return;
    fig.dataset.preview = a.preview_state;
    const big = thumb.replace('?', '?size=preview&');
    const img = $('img', fig), video = $('video', fig), note = $('#preview-note', fig);
    if (video) video.poster = big;
    else if (img && img.classList.contains('animation')) { // a GIF / WebP playing: its new original
      if (a.preview_state === 'ready') img.src = '/api/v1/assets/' + a.id + '/animation?v=' + encodeURIComponent(a.preview_version);
    } else if (img) img.src = big;
    if (note) {
      note.textContent = a.preview_state === 'pending' ? 'The preview is being made.'
        : a.preview_state === 'error' ? 'No preview: ' + (a.preview_error || 'it could not be made.') : '';
      note.hidden = !note.textContent;
    }
  }

  function previewStatus(el, a) {
    el.hidden = a.preview_state !== 'pending' && a.preview_state !== 'error';
    el.textContent = a.preview_state === 'pending' ? 'Processing…' : a.preview_state === 'error' ? 'No preview' : '';
    if (a.preview_state === 'error') el.title = a.preview_error || ''; else el.removeAttribute('title');
  }

  // reconcile asks the server for the sync state, for events missed while
  // the event stream was (re)connecting.
  async function reconcile() {
    const r = await api('GET', '/sync');
    if (!r.ok || !r.data) return;
    const s = r.data;
    // A live batch holds the library for a moment only, and changes made
    // meanwhile wait for it: no banner for it.
    if (s.state === 'running' && s.running_run && s.running_run.trigger !== 'live') {
      setLocked(true, s.running_run);
    } else if (body.dataset.locked === 'true') {
      if (s.latest_run) runFinished(s.latest_run, s.latest_run.state === 'failed' ? 'sync.failed' : 'sync.completed');
      else setLocked(false);
    }
    if (location.pathname === '/settings/sync') renderSyncState(s);
  }

  function startEvents() {
    if (!signedIn || !window.EventSource) return;
    const es = new EventSource('/api/v1/events');
    const on = (e) => { try { handleEvent(JSON.parse(e.data)); } catch (err) { /* ignore malformed events */ } };
    es.onmessage = on;
    ['sync.started', 'sync.progress', 'sync.completed', 'sync.failed', 'sync.needs_confirmation', 'notification',
      'asset.created', 'asset.updated', 'asset.moved', 'asset.deleted', 'library.changed'].forEach((t) => es.addEventListener(t, on));
    es.addEventListener('open', () => { window.shelf.live = true; reconcile(); });
    // While locked, check now and then too, in case the stream is cut by a proxy.
    setInterval(() => { if (body.dataset.locked === 'true') reconcile(); }, 5000);
  }

  // refreshView reloads the parts of the current page that a sync changes,
  // without a full reload (the open dialogs and scroll position stay).
  async function refreshView() {
    const swap = ['#items', '.subfolders', '#tree', '#runs', '#sync-latest', '#sync-next', '#sync-previews', '#sync-live', '#confirm-slot', '.empty'];
    if (!$('.library') && !$('#runs')) return;
    const res = await getPage(location.href);
    if (!res || !res.ok) return;
    const html = await res.text();
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const lib = $('.library'), newLib = $('.library', doc);
    if (lib && newLib) {
      // Keep the upload progress list (uploads may still be running) and
      // the last upload's summary.
      const uploads = $('#uploads'), summary = $('#upload-summary');
      // The drawer or a menu open on a phone stays open.
      const layout = window.shelfLayout && window.shelfLayout.saveState();
      lib.replaceWith(document.adoptNode(newLib));
      if (layout) window.shelfLayout.restoreState(layout);
      const fresh = $('#uploads');
      if (uploads && fresh) fresh.replaceWith(uploads);
      if (uploads && summary) uploads.before(summary);
      initLibrary();
    } else {
      swap.forEach((sel) => { const a = $(sel), b = $(sel, doc); if (a && b) a.replaceWith(document.adoptNode(b)); });
    }
    // The page read from the server may be behind the live events.
    setLocked(body.dataset.locked === 'true', currentRun ? latestRuns.get(currentRun) : null);
    localTimes();
    if (location.pathname === '/settings/sync') reconcile();
  }

  // ---- Library ------------------------------------------------------------

  // getPage fetches a page or fragment of this site; when the session has
  // ended (the answer is the sign-in page) it goes to sign-in instead.
  async function getPage(url) {
    const res = await fetch(url, { credentials: 'same-origin' }).catch(() => null);
    if (res && res.redirected && new URL(res.url).pathname === '/signin') {
      location.href = res.url;
      return null;
    }
    return res;
  }

  function fragment(html, view) {
    const t = document.createElement('template');
    if (view === 'list') {
      t.innerHTML = '<table><tbody>' + html + '</tbody></table>';
      return Array.from(t.content.querySelector('tbody').children);
    }
    t.innerHTML = html;
    return Array.from(t.content.children);
  }

  let moreObserver = null;

  async function loadMore(link) {
    if (link.dataset.loading) return;
    link.dataset.loading = '1';
    link.textContent = 'Loading…';
    const items = $('#items');
    const res = await getPage(link.dataset.more);
    if (!res || !res.ok) {
      link.textContent = 'Could not load more; try again';
      delete link.dataset.loading;
      return;
    }
    const nodes = fragment(await res.text(), items.dataset.view);
    const holder = link.closest('tr.more-row') || link;
    holder.replaceWith(...nodes);
    localTimes(items);
    observeMore();
  }

  function observeMore() {
    const link = $('#items [data-more]');
    if (!link) return;
    if (!moreObserver && 'IntersectionObserver' in window) {
      moreObserver = new IntersectionObserver((entries) => {
        entries.forEach((e) => { if (e.isIntersecting) { moreObserver.unobserve(e.target); loadMore(e.target); } });
      }, { rootMargin: '600px' });
    }
    if (moreObserver) moreObserver.observe(link);
  }

  async function expandTree(btn) {
    const li = btn.closest('li');
    const open = btn.getAttribute('aria-expanded') === 'true';
    const group = $(':scope > ul', li);
    if (open) {
      btn.setAttribute('aria-expanded', 'false');
      btn.textContent = '▸';
      if (group) group.hidden = true;
      return;
    }
    if (li.dataset.leaf) return;
    if (group) {
      btn.setAttribute('aria-expanded', 'true');
      btn.textContent = '▾';
      group.hidden = false;
      return;
    }
    const res = await getPage('/library/tree?parent=' + encodeURIComponent(li.dataset.folder));
    if (!res || !res.ok) { toast('Could not load the folders; try again.', 'error'); return; }
    const nodes = fragment(await res.text());
    if (nodes.length === 0) {
      li.dataset.leaf = '1';
      btn.textContent = '·';
      btn.removeAttribute('aria-expanded');
      btn.setAttribute('aria-label', li.querySelector('a').textContent + ' has no subfolders');
      return;
    }
    btn.setAttribute('aria-expanded', 'true');
    btn.textContent = '▾';
    li.append(...nodes);
  }

  function currentFolderID() {
    const lib = $('.library');
    return lib && lib.dataset.folder ? Number(lib.dataset.folder) : null;
  }

  // uploadConcurrency is how many files upload at once: the server serves a
  // few transfers per account at a time and refuses the excess (429).
  const uploadConcurrency = 4;

  // upload sends each file in its own request with its own progress bar,
  // a few at a time; a file the server is too busy for (429 / 503) waits
  // the Retry-After it names and is sent again. A name already in the
  // folder asks replace / keep both / skip (upload-conflict.js) before the
  // content is sent, or when the server answers that the name is taken.
  function uploadFiles(files) {
    if (!files.length) return;
    if (body.dataset.locked === 'true') { showLocked(null); return; }
    const list = $('#uploads');
    const folder = currentFolderID();
    const conflicts = window.shelfUploads;
    const batch = conflicts.newBatch();
    let pending = files.length;
    const queue = [];
    let running = 0;
    const done = () => {
      pending--;
      if (pending === 0) {
        const text = conflicts.showSummary(batch, list);
        if (text) toast(text, batch.failed.length ? 'error' : 'ok');
        refreshView();
      }
    };
    const pump = () => {
      while (running < uploadConcurrency && queue.length) {
        running++;
        send(queue.shift());
      }
    };
    const finish = () => { running--; pump(); };
    const send = async (item) => {
      const { file, li, bar, state } = item;
      if (!item.mode && !item.checked) {
        item.checked = true;
        state.textContent = 'checking';
        if (await conflicts.taken(api, folder, file.name)) {
          state.textContent = 'name exists';
          item.mode = await conflicts.ask(batch, file.name);
        }
      }
      if (item.mode === 'skip') { state.textContent = conflicts.record(batch, { outcome: 'skipped' }); bar.value = 100; done(); finish(); return; }
      const fd = new FormData();
      if (folder !== null) fd.append('folder_id', String(folder));
      fd.append('file', file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/v1/assets?csrf_token=' + encodeURIComponent(csrfToken()) + (folder !== null ? '&folder_id=' + folder : '') +
        (item.mode ? '&on_conflict=' + item.mode : ''));
      xhr.setRequestHeader('X-CSRF-Token', csrfToken());
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) { bar.value = Math.round(e.loaded / e.total * 100); state.textContent = bar.value + '%'; }
      });
      xhr.addEventListener('load', () => {
        if ((xhr.status === 429 || xhr.status === 503) && item.tries < 10) {
          item.tries++;
          const wait = Math.max(1, Number(xhr.getResponseHeader('Retry-After')) || 1);
          state.textContent = 'server busy; again in ' + wait + ' s';
          bar.value = 0;
          setTimeout(() => { queue.unshift(item); pump(); }, wait * 1000);
          finish();
          return;
        }
        let answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
        const err = answer && answer.error;
        if (xhr.status === 409 && err && err.name_taken && !item.mode) {
          // Taken although the check found it free (another upload, or a
          // file the library does not show yet): ask, then send again.
          bar.value = 0; state.textContent = 'name exists';
          finish();
          conflicts.ask(batch, file.name).then((mode) => { item.mode = mode; queue.unshift(item); pump(); });
          return;
        }
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 100;
          state.textContent = conflicts.record(batch, answer && answer.results && answer.results[0]);
        } else {
          state.textContent = (err && err.message) || ('failed (' + xhr.status + ')');
          batch.failed.push({ name: file.name, reason: state.textContent });
          li.classList.add('failed');
          if (xhr.status === 423) showLocked(err);
        }
        done();
        finish();
      });
      xhr.addEventListener('error', () => {
        state.textContent = 'failed: connection lost';
        batch.failed.push({ name: file.name, reason: 'the connection was lost' });
        li.classList.add('failed'); done(); finish();
      });
      state.textContent = '0%';
      xhr.send(fd);
    };
    Array.from(files).forEach((file) => {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = file.name;
      const bar = document.createElement('progress');
      bar.max = 100; bar.value = 0;
      bar.setAttribute('aria-label', 'Upload of ' + file.name);
      const state = document.createElement('span');
      state.textContent = 'waiting';
      li.append(name, bar, state);
      list.append(li);
      queue.push({ file, li, bar, state, tries: 0 });
    });
    pump();
  }

  function initLibrary() {
    const lib = $('.library');
    if (!lib) return;
    observeMore();
    lib.addEventListener('click', (e) => {
      const more = e.target.closest('[data-more]');
      if (more) { e.preventDefault(); loadMore(more); return; }
      const tw = e.target.closest('[data-expand]');
      if (tw) { e.preventDefault(); expandTree(tw); }
    });
    if (!canEdit) return;
    const input = $('#upload-input');
    if (input) input.addEventListener('change', () => { uploadFiles(Array.from(input.files)); input.value = ''; });
    const zone = $('#drop-zone');
    if (zone) {
      zone.addEventListener('dragover', (e) => { if (e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files')) { e.preventDefault(); zone.classList.add('dragging'); } });
      zone.addEventListener('dragleave', (e) => { if (e.target === zone) zone.classList.remove('dragging'); });
      zone.addEventListener('drop', (e) => {
        zone.classList.remove('dragging');
        if (e.dataTransfer && e.dataTransfer.files.length) { e.preventDefault(); uploadFiles(Array.from(e.dataTransfer.files)); }
      });
    }
    const nf = $('#new-folder');
    if (nf) nf.addEventListener('click', async () => {
      const name = await askName({ title: 'New folder', label: 'Folder name', okText: 'Create',
        submit: (name) => api('POST', '/folders', { parent_id: currentFolderID(), name }) });
      if (name) { toast('Folder “' + shorten(name) + '” created.', 'ok'); refreshView(); }
    });
    const rf = $('#rename-folder');
    if (rf) rf.addEventListener('click', async () => {
      const name = await askName({ title: 'Rename folder', label: 'Folder name', value: rf.dataset.name, okText: 'Rename',
        submit: (name) => api('PATCH', '/folders/' + rf.dataset.folderId, { name }) });
      if (name) location.reload();
    });
    const df = $('#delete-folder');
    if (df) df.addEventListener('click', async () => {
      if (!await confirmDialog('Delete the folder “' + df.dataset.name + '” and everything in it, from the storage too?')) return;
      const r = await api('DELETE', '/folders/' + df.dataset.folderId);
      if (r.ok) location.href = df.dataset.parent ? '/library/folder/' + df.dataset.parent : '/library';
      else if (r.status !== 423) toast(r.error.message, 'error');
    });
  }

  // ---- Asset page ---------------------------------------------------------

  function initAsset() {
    const page = $('.asset-page');
    if (!page || !canEdit) return;
    const id = page.dataset.asset;
    const rn = $('#rename-asset');
    rn.addEventListener('click', async () => {
      const name = await askName({ title: 'Rename file', label: 'File name', value: rn.dataset.name, okText: 'Rename', file: true,
        submit: (name) => api('PATCH', '/assets/' + id, { name }) });
      if (name) location.reload();
    });
    $('#delete-asset').addEventListener('click', async () => {
      if (!await confirmDialog('Delete “' + $('#delete-asset').dataset.name + '” from the library and the storage?')) return;
      const r = await api('DELETE', '/assets/' + id);
      if (r.ok) location.href = page.dataset.folder ? '/library/folder/' + page.dataset.folder : '/library';
      else if (r.status !== 423) toast(r.error.message, 'error');
    });
    initMove(id);
    const add = $('#add-custom');
    add.addEventListener('click', () => {
      const rows = $('#custom-rows');
      const n = rows.children.length + Date.now();
      const row = document.createElement('div');
      row.className = 'custom-row';
      row.innerHTML = '<label class="sr-only" for="ck' + n + '">Field name</label><input id="ck' + n + '" class="ck" placeholder="Field" data-change><label class="sr-only" for="cv' + n + '">Value</label><input id="cv' + n + '" class="cv" placeholder="Value" data-change>';
      rows.append(row);
      $('.ck', row).focus();
    });
    const form = $('#meta-form');
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      const custom = {};
      $$('.custom-row', form).forEach((row) => {
        const k = $('.ck', row).value.trim();
        if (k) custom[k] = $('.cv', row).value;
      });
      const payload = {
        title: form.title.value,
        description: form.description.value,
        tags: form.tags.value.split(',').map((t) => t.trim()).filter(Boolean),
        rating: Number(form.rating.value),
        custom,
      };
      busy(form, true);
      const r = await api('PATCH', '/assets/' + id, payload);
      busy(form, false);
      if (r.ok) toast('Metadata saved.', 'ok');
      else if (r.status !== 423) showErrors(form, r.error);
    });
  }

  function initMove(id) {
    const dlg = $('#move-dialog');
    const btn = $('#move-asset');
    if (!dlg || !btn) return;
    let stack = [{ id: null, name: 'Library (top level)' }];
    const list = $('#move-folders');
    async function show() {
      const here = stack[stack.length - 1];
      $('#move-where').textContent = stack.map((s) => s.name).join(' / ');
      list.innerHTML = '<li class="muted">Loading…</li>';
      const r = await api('GET', '/folders' + (here.id ? '?parent=' + here.id : ''));
      list.innerHTML = '';
      if (!r.ok) { list.innerHTML = '<li class="form-error"></li>'; list.firstChild.textContent = r.error.message; return; }
      const folders = r.data.folders || [];
      if (!folders.length) list.innerHTML = '<li class="muted">No folders inside.</li>';
      folders.forEach((f) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = f.name;
        b.classList.add('with-icon', 'folder');
        b.addEventListener('click', () => { stack.push({ id: f.id, name: f.name }); show(); });
        li.append(b);
        list.append(li);
      });
      $('#move-up').disabled = stack.length === 1;
    }
    btn.addEventListener('click', () => { stack = stack.slice(0, 1); dlg.showModal(); show(); });
    $('#move-up').addEventListener('click', () => { if (stack.length > 1) { stack.pop(); show(); } });
    $('#move-here').addEventListener('click', async () => {
      const here = stack[stack.length - 1];
      const r = await api('PATCH', '/assets/' + id, { folder_id: here.id });
      if (r.ok) { dlg.close(); location.reload(); return; }
      const err = $('.form-error', dlg);
      err.textContent = r.error.message;
      err.hidden = false;
    });
  }

  // ---- Sign-in and sign-up --------------------------------------------------

  function initAuth() {
    const signin = $('#signin-form');
    if (signin) signin.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(signin);
      busy(signin, true);
      const r = await api('POST', '/login', { email: signin.email.value.trim(), password: signin.password.value });
      busy(signin, false);
      if (r.ok) location.href = signin.dataset.next || '/library';
      else showErrors(signin, r.error);
    });
    const signup = $('#signup-form');
    if (signup) signup.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(signup);
      const v = formValues(signup);
      v.password = signup.password.value;
      busy(signup, true);
      const r = await api('POST', '/signup', v);
      if (!r.ok) { busy(signup, false); showErrors(signup, r.error); return; }
      const l = await api('POST', '/login', { email: v.email, password: v.password });
      busy(signup, false);
      if (l.ok) location.href = signup.dataset.next || '/library';
      else location.href = '/signin?email=' + encodeURIComponent(v.email);
    });
  }

  // ---- Settings → Storage -----------------------------------------------------

  async function connectStorage(payload, form, prefix) {
    const err = $('#storage-error');
    err.hidden = true;
    if (form) { clearErrors(form); busy(form, true); }
    let r = await api('PUT', '/storage', payload);
    if (!r.ok && r.error && r.error.code === 'root_change_needs_confirmation') {
      if (await confirmDialog(r.error.message + ' Connect the new root and clear the library?', 'Replace the library')) {
        r = await api('PUT', '/storage', Object.assign({}, payload, { confirm_root_change: true }));
      } else { if (form) busy(form, false); return; }
    }
    if (form) busy(form, false);
    if (r.ok) {
      toast('Storage connected. The first sync has started.', 'ok');
      if (r.data && r.data.sync_run) setLocked(r.data.sync_run.state === 'running' || r.data.sync_run.state === 'queued', r.data.sync_run);
      location.href = '/settings/sync';
      return;
    }
    if (form) showErrors(form, r.error, prefix);
    if (!form || !(r.error.fields || r.error.field)) { err.textContent = r.error.message; err.hidden = false; }
  }

  function initStorage() {
    $$('.storage-form').forEach((form) => form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = formValues(form);
      if (form.dataset.kind === 's3') v.path_style = form.path_style.checked;
      v.kind = form.dataset.kind;
      connectStorage(v, form, form.dataset.prefix);
    }));
    const picker = $('#gdrive-picker');
    if (!picker) return;
    let stack = [{ id: '', name: 'My Drive' }];
    const list = $('#gdrive-folders');
    async function show() {
      const here = stack[stack.length - 1];
      $('#gdrive-where').textContent = stack.map((s) => s.name).join(' / ');
      list.innerHTML = '<li class="muted">Loading…</li>';
      const r = await api('GET', '/storage/gdrive/folders' + (here.id ? '?parent=' + encodeURIComponent(here.id) : ''));
      list.innerHTML = '';
      if (!r.ok) {
        const li = document.createElement('li');
        li.className = 'form-error';
        li.textContent = r.error.message;
        list.append(li);
        return;
      }
      const entries = (r.data.folders || []).concat(stack.length === 1 ? (r.data.shared_drives || []).map((d) => Object.assign({ shared: true }, d)) : []);
      if (!entries.length) list.innerHTML = '<li class="muted">No folders inside.</li>';
      entries.forEach((f) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = f.name;
        b.classList.add('with-icon', f.shared ? 'drive' : 'folder');
        b.addEventListener('click', () => { stack.push({ id: f.id, name: f.name }); show(); });
        li.append(b);
        list.append(li);
      });
      $('#gdrive-up').disabled = stack.length === 1;
      $('#gdrive-use').disabled = stack.length === 1;
    }
    $('#gdrive-up').addEventListener('click', () => { if (stack.length > 1) { stack.pop(); show(); } });
    $('#gdrive-use').addEventListener('click', () => {
      const here = stack[stack.length - 1];
      connectStorage({ kind: 'gdrive', folder_id: here.id }, picker, 'gdrive');
    });
    show();
  }

  // ---- Settings → Sync ----------------------------------------------------------

  let countdown = null;

  function fmtLeft(ms) {
    const s = Math.max(0, Math.ceil(ms / 1000));
    const h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, sec = s % 60;
    return (h ? h + ':' + String(m).padStart(2, '0') : String(m)) + ':' + String(sec).padStart(2, '0');
  }

  function fmtTime(iso) {
    return new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
  }

  // localTimes shows the server's UTC times in the reader's time zone
  // (the UTC time stays in the tooltip).
  function localTimes(root = document) {
    $$('time[datetime]', root).forEach((t) => {
      if (t.dataset.local) return;
      t.dataset.local = '1';
      t.title = t.textContent;
      t.textContent = fmtTime(t.getAttribute('datetime'));
    });
  }

  // renderSyncState shows whether a manual sync is available now, or a
  // live countdown to when and the plan that would allow it now.
  function renderSyncState(s) {
    const el = $('#sync-manual');
    const btn = $('#sync-now');
    if (!el) return;
    if (countdown) { clearInterval(countdown); countdown = null; }
    $('#sync-plan').textContent = s.plan || $('#sync-plan').textContent;
    const next = $('#sync-next');
    if (next) next.textContent = s.next_auto_sync_at ? fmtTime(s.next_auto_sync_at) : 'none on this plan';
    showPreviews(s.previews_pending);
    showLive(s);
    if (!s.storage_kind && s.storage_kind !== undefined) { el.textContent = 'needs storage'; return; }
    if (s.state === 'running' || s.manual_sync_reason === 'running' || body.dataset.locked === 'true') {
      showManualRunning();
      if (btn) btn.disabled = true;
      return;
    }
    delete el.dataset.running;
    const at = s.manual_sync_available_at ? new Date(s.manual_sync_available_at) : null;
    const allowed = s.manual_sync_allowed !== false && (!at || at.getTime() <= Date.now());
    if (allowed) {
      el.textContent = 'Available now';
      if (btn) { btn.dataset.cooldown = 'false'; btn.disabled = body.dataset.locked === 'true'; }
      return;
    }
    if (btn) { btn.dataset.cooldown = 'true'; btn.disabled = true; }
    if (!at) { el.textContent = 'Not available now.'; return; }
    const plan = s.plan_allowing_manual_now || s.plan_allowing_now;
    const tick = () => {
      const left = at.getTime() - Date.now();
      if (left <= 0) { renderSyncState(Object.assign({}, s, { manual_sync_available_at: null, manual_sync_allowed: true })); return; }
      el.textContent = 'Next available in ' + fmtLeft(left) + ' (at ' + fmtTime(at.toISOString()) + ').' +
        (plan ? ' The ' + plan + ' plan would allow it now.' : '');
    };
    tick();
    countdown = setInterval(tick, 1000);
  }

  // showLive keeps the Sync page's live sentence current: the server
  // renders it (runtext.go's words), so a change of how changes arrive, or
  // a new last change, reloads that part; while no process watches yet, it
  // looks again shortly.
  let liveCheck = null;
  let liveRefreshedAt = 0;
  function showLive(s) {
    const el = $('#sync-live');
    if (!el || !s.live) return;
    clearTimeout(liveCheck);
    const stale = el.dataset.mode !== (s.live_mode || '') || el.dataset.change !== (s.last_change_at || '');
    if (stale) {
      if (Date.now() - liveRefreshedAt > 2000) {
        liveRefreshedAt = Date.now();
        refreshView();
      } else {
        liveCheck = setTimeout(reconcile, 2000);
      }
      return;
    }
    if (!s.live_mode) liveCheck = setTimeout(reconcile, 3000);
  }

  // showPreviews says how many previews are still being made after a sync
  // (the work that follows it), and looks again while some are.
  let previewsCheck = null;
  function showPreviews(n) {
    const el = $('#sync-previews');
    if (!el || n === undefined) return;
    el.textContent = n > 0 ? (n > 100000 ? 'more than 100,000' : fmtNum(n)) + ' being made' : 'all made';
    clearTimeout(previewsCheck);
    if (n > 0 && body.dataset.locked !== 'true') previewsCheck = setTimeout(reconcile, 3000);
  }

  function initSync() {
    if (location.pathname !== '/settings/sync') return;
    const btn = $('#sync-now');
    if (btn) btn.addEventListener('click', async () => {
      const msg = $('#sync-now-msg');
      btn.disabled = true;
      const r = await api('POST', '/sync');
      if (r.ok) {
        const run = r.data && r.data.run;
        // A quick run may have completed (and been announced) already.
        if (!(run && announced.has(run.id))) {
          msg.textContent = r.status === 202 && run && run.state !== 'running' ? 'Sync queued.' : 'Sync started.';
          if (run) setLocked(run.state === 'running' || run.state === 'queued', run);
        }
        return;
      }
      if (r.status === 429) {
        const e = r.error;
        renderSyncState({ manual_sync_available_at: e.available_at, manual_sync_allowed: false, plan_allowing_now: e.plan_allowing_now, plan: $('#sync-plan').textContent });
        msg.textContent = e.message;
        return;
      }
      btn.disabled = false;
      msg.textContent = r.error.message;
    });
    reconcile();
    // The confirmation panel is replaced when the page refreshes: listen
    // on the page, not on the button.
    document.addEventListener('click', (e) => {
      const b = e.target.closest('#confirm-removals');
      if (b) confirmRemovals(b);
    });
  }

  // confirmRemovals confirms a run held back by the mass-removal guard,
  // once: the button stays disabled and the new run's progress shows.
  async function confirmRemovals(b) {
    if (b.disabled) return;
    const n = Number(b.dataset.count || 0);
    const what = n ? 'the ' + fmtNum(n) + (n === 1 ? ' file' : ' files') : 'the files';
    if (!await confirmDialog('Remove ' + what + ' missing from the storage from the library? Their tags and descriptions are kept for 30 days.', 'Confirm and remove')) return;
    b.disabled = true;
    const msg = $('#confirm-msg');
    msg.textContent = 'Confirming…';
    const r = await api('POST', '/sync/runs/' + b.dataset.run + '/confirm', {});
    if (r.ok) {
      msg.textContent = 'Confirmed: a new sync is removing them; its progress shows above and in History.';
      const run = r.data && r.data.run;
      if (run && !announced.has(run.id)) setLocked(run.state === 'running' || run.state === 'queued', run);
      return;
    }
    msg.textContent = r.error.message;
    // A conflict means it was confirmed already or a newer sync ran.
    if (r.status !== 409) b.disabled = false;
  }

  // ---- Copy buttons -----------------------------------------------------------

  // A button with data-copy copies the value (a field) or text (a code
  // block) of the element with that id.
  function initCopy() {
    document.addEventListener('click', async (e) => {
      const b = e.target.closest('button[data-copy]');
      if (!b) return;
      const el = document.getElementById(b.dataset.copy);
      if (!el) return;
      const text = 'value' in el ? el.value : el.textContent;
      try {
        await navigator.clipboard.writeText(text);
        toast('Copied.', 'ok', 3000);
      } catch (err) {
        // No clipboard (a page not served over https): select it instead.
        const range = document.createRange();
        if ('select' in el) el.select(); else { range.selectNodeContents(el); getSelection().removeAllRanges(); getSelection().addRange(range); }
        toast('Selected: press Ctrl+C (⌘C) to copy.', 'info', 5000);
      }
    });
  }

  // ---- Team, tokens, notifications, webhooks --------------------------------

  function initTeam() {
    const form = $('#user-form');
    if (form) form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      const v = formValues(form);
      v.password = form.password.value;
      busy(form, true);
      const r = await api('POST', '/users', v);
      busy(form, false);
      if (r.ok) location.reload(); else showErrors(form, r.error, 'u');
    });
    $$('.role-select').forEach((sel) => {
      const before = sel.value;
      sel.addEventListener('change', async () => {
        const r = await api('PATCH', '/users/' + sel.dataset.user, { role: sel.value });
        if (r.ok) toast('Role changed to ' + sel.value + '.', 'ok'); else { toast(r.error.message, 'error'); sel.value = before; }
      });
    });
    $$('.remove-user').forEach((b) => b.addEventListener('click', async () => {
      if (!await confirmDialog('Remove ' + b.dataset.email + ' from the team?', 'Remove')) return;
      const r = await api('DELETE', '/users/' + b.dataset.user);
      if (r.ok) b.closest('tr').remove(); else toast(r.error.message, 'error');
    }));
  }

  function initTokens() {
    const form = $('#token-form');
    if (!form) return;
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      const r = await api('POST', '/tokens', { name: form.name.value.trim() });
      if (!r.ok) { showErrors(form, r.error); return; }
      $('#new-token').hidden = false;
      const out = $('#new-token-value');
      out.value = r.data.token;
      out.focus();
      out.select();
      form.reset();
      $('#tokens').prepend(tokenRow(r.data));
      $$('#tokens .empty-row').forEach((tr) => tr.remove());
    });
    $('#tokens').addEventListener('click', async (e) => {
      const b = e.target.closest('.revoke-token');
      if (!b) return;
      if (!await confirmDialog('Revoke the token “' + b.dataset.name + '”? Scripts using it stop working.', 'Revoke')) return;
      const r = await api('DELETE', '/tokens/' + b.dataset.token);
      if (r.ok) b.closest('tr').remove(); else toast(r.error.message, 'error');
    });
    $$('.revoke-team-token').forEach((b) => b.addEventListener('click', async () => {
      if (!await confirmDialog('Revoke ' + b.dataset.email + '’s token “' + b.dataset.name + '”? Scripts using it stop working.', 'Revoke')) return;
      const r = await api('DELETE', '/account/tokens/' + b.dataset.token);
      if (r.ok) { b.closest('tr').remove(); toast('Token revoked.', 'ok'); } else toast(r.error.message, 'error');
    }));
  }

  // tokenRow is a new token's row in the Tokens list, as the page has it.
  function tokenRow(t) {
    const tr = document.createElement('tr');
    tr.dataset.token = t.id;
    const cell = (label, text, cls) => { const td = document.createElement('td'); td.dataset.label = label; td.textContent = text; if (cls) td.className = cls; tr.append(td); return td; };
    cell('Name', t.name);
    cell('Starts with', t.prefix + '…', 'mono');
    fillTime(cell('Created', ''), t.created_at);
    cell('Last used', 'never');
    const act = document.createElement('td');
    act.className = 'actions-cell';
    const b = document.createElement('button');
    Object.assign(b, { type: 'button', className: 'danger revoke-token', textContent: 'Revoke' });
    Object.assign(b.dataset, { token: t.id, name: t.name });
    act.append(b);
    tr.append(act);
    return tr;
  }

  let unread = 0;
  function bumpUnread(n) { setUnread(unread + n); }
  function setUnread(n) {
    unread = n;
    const b = $('#unread');
    if (!b) return;
    b.hidden = n <= 0;
    b.textContent = String(n);
    b.setAttribute('aria-label', n + ' unread');
  }

  async function loadNotifications() {
    const list = $('#notifications');
    const r = await api('GET', '/notifications?limit=' + (list ? 100 : 1));
    if (!list) { if (r.ok && r.data) setUnread(r.data.unread || 0); return; }
    list.innerHTML = '';
    if (!r.ok) { const li = document.createElement('li'); li.className = 'form-error'; li.textContent = r.error.message; list.append(li); return; }
    setUnread(r.data.unread || 0);
    const items = r.data.notifications || [];
    if (!items.length) list.innerHTML = '<li class="muted">No notifications yet.</li>';
    items.forEach((n) => {
      const li = document.createElement('li');
      if (!n.read_at) li.className = 'unread';
      const t = document.createElement('time');
      t.dateTime = n.created_at;
      t.textContent = fmtTime(n.created_at);
      const p = document.createElement('div');
      p.textContent = n.message;
      li.append(p, t);
      list.append(li);
    });
  }

  function initNotifications() {
    if (!signedIn) return;
    loadNotifications();
    const mr = $('#mark-read');
    if (mr) mr.addEventListener('click', async () => {
      const r = await api('POST', '/notifications/read', {});
      if (r.ok) loadNotifications(); else toast(r.error.message, 'error');
    });
  }

  async function loadWebhooks() {
    const tb = $('#webhooks');
    const r = await api('GET', '/webhooks');
    tb.innerHTML = '';
    if (!r.ok) { tb.innerHTML = '<tr><td colspan="4" class="form-error"></td></tr>'; $('td', tb).textContent = r.error.message; return; }
    const hooks = r.data.webhooks || [];
    if (!hooks.length) tb.innerHTML = '<tr><td colspan="4" class="muted">No webhooks yet.</td></tr>';
    hooks.forEach((h) => {
      const tr = document.createElement('tr');
      const url = document.createElement('td'); url.textContent = h.url; url.className = 'mono'; url.dataset.label = 'URL';
      const ev = document.createElement('td'); ev.textContent = (h.events || []).join(', '); ev.dataset.label = 'Events';
      const st = document.createElement('td'); st.dataset.label = 'State'; st.textContent = h.enabled ? 'enabled' : ('disabled' + (h.disabled_reason ? ': ' + h.disabled_reason : ''));
      const act = document.createElement('td'); act.className = 'actions-cell';
      const tog = document.createElement('button'); tog.type = 'button'; tog.textContent = h.enabled ? 'Disable' : 'Enable';
      tog.addEventListener('click', async () => { const x = await api('PATCH', '/webhooks/' + h.id, { enabled: !h.enabled }); if (x.ok) loadWebhooks(); else toast(x.error.message, 'error'); });
      const del = document.createElement('button'); del.type = 'button'; del.className = 'danger'; del.textContent = 'Delete';
      del.addEventListener('click', async () => {
        if (!await confirmDialog('Delete the webhook to ' + h.url + '?')) return;
        const x = await api('DELETE', '/webhooks/' + h.id); if (x.ok) loadWebhooks(); else toast(x.error.message, 'error');
      });
      const log = document.createElement('button'); log.type = 'button'; log.textContent = 'Deliveries';
      log.setAttribute('aria-expanded', 'false');
      log.addEventListener('click', () => toggleDeliveries(h, tr, log));
      act.append(tog, ' ', log, ' ', del);
      tr.append(url, ev, st, act);
      tb.append(tr);
    });
  }

  // toggleDeliveries shows a webhook's delivery log under its row.
  async function toggleDeliveries(h, tr, btn) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains('deliveries')) {
      next.remove();
      btn.setAttribute('aria-expanded', 'false');
      return;
    }
    const r = await api('GET', '/webhooks/' + h.id + '/deliveries');
    const row = document.createElement('tr');
    row.className = 'deliveries';
    const cell = document.createElement('td');
    cell.colSpan = 4;
    row.append(cell);
    if (!r.ok) {
      cell.textContent = r.error.message;
    } else if (!(r.data.deliveries || []).length) {
      cell.textContent = 'No deliveries yet.';
    } else {
      const ul = document.createElement('ul');
      ul.className = 'delivery-log';
      r.data.deliveries.forEach((d) => {
        const li = document.createElement('li');
        const ok = d.status_code && d.status_code >= 200 && d.status_code < 300;
        li.textContent = fmtTime(d.created_at) + ' · ' + d.event + ' · attempt ' + d.attempt + ' · ' +
          (d.status_code ? 'HTTP ' + d.status_code : 'no answer') + (d.error ? ' · ' + d.error : '');
        li.className = ok ? 'ok' : 'failed';
        ul.append(li);
      });
      cell.append(ul);
    }
    tr.after(row);
    btn.setAttribute('aria-expanded', 'true');
  }

  function initWebhooks() {
    const form = $('#webhook-form');
    if (!form) return;
    loadWebhooks();
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(form);
      const v = formValues(form);
      const r = await api('POST', '/webhooks', { url: v.url || '', events: v.events || [] });
      if (!r.ok) { showErrors(form, r.error, 'wh'); return; }
      const secret = (r.data && (r.data.secret || (r.data.webhook && r.data.webhook.secret))) || '';
      if (secret) { $('#new-secret').hidden = false; $('#new-secret-value').value = secret; }
      form.reset();
      loadWebhooks();
    });
  }

  function initNav() {
    const t = $('.nav-toggle');
    if (!t) return;
    t.addEventListener('click', () => {
      const open = t.getAttribute('aria-expanded') !== 'true';
      t.setAttribute('aria-expanded', String(open));
      $('#nav').classList.toggle('open', open);
    });
  }

  // Exposed for tests and the console: the same calls the controls make.
  window.shelf = { api, setLocked, toast, refreshView, reconcile, confirmDialog };

  localTimes();
  initNav();
  initAuth();
  initLibrary();
  initAsset();
  initStorage();
  initSync();
  initCopy();
  initTeam();
  initTokens();
  initWebhooks();
  initNotifications();
  if (body.dataset.locked === 'true') setLocked(true, body.dataset.run ? { id: Number(body.dataset.run) } : null);
  startEvents();
})();
