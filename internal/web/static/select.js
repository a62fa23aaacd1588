// Shelf library: selecting files and acting on the selection (tag, move,
// delete, download as a zip), and moving through the grid by keyboard.
// Changes go through the bulk API (docs/api.md): one request per action,
// each file's result shown. The grid (#items) is replaced when the page
// refreshes, so handlers sit on the document and the selection is kept by
// asset id.
(() => {
  'use strict';

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const bar = $('#bulk-bar');
  if (!bar) return;
  const body = document.body;
  const shelf = () => window.shelf;

  const selected = new Set(); // asset ids (strings)
  let anchor = null; // the last file clicked, for shift-click ranges

  const items = () => $$('#items [data-asset]');
  const itemOf = (el) => el && el.closest('#items [data-asset]');
  const linkOf = (item) => $('a[href^="/assets/"]', item);
  const nameOf = (id) => { const el = $('#items [data-asset="' + id + '"]'); return el ? el.dataset.name : 'File ' + id; };
  const plural = (n, word) => n + ' ' + word + (n === 1 ? '' : 's');

  // show puts the selection on the page: the boxes, the highlight, the bar.
  function show() {
    const ids = new Set(items().map((el) => el.dataset.asset));
    // Files gone from the page (deleted, moved away) leave the selection.
    for (const id of Array.from(selected)) if (!ids.has(id)) selected.delete(id);
    items().forEach((el) => {
      const on = selected.has(el.dataset.asset);
      el.classList.toggle('selected', on);
      const box = $('.select-box', el);
      if (box) box.checked = on;
    });
    const n = selected.size;
    bar.hidden = n === 0;
    // Toasts rise above the bar rather than cover its buttons.
    document.documentElement.style.setProperty('--bulk-bar-h', n ? bar.offsetHeight + 'px' : '0px');
    $('#bulk-count').textContent = n + ' selected';
    const all = $('#bulk-all');
    all.disabled = n === ids.size;
    const grid = $('#items');
    if (grid) grid.classList.toggle('selecting', n > 0);
  }

  function toggle(item, on) {
    const id = item.dataset.asset;
    if (on === undefined) on = !selected.has(id);
    if (on) selected.add(id); else selected.delete(id);
    anchor = id;
  }

  // range selects every file between the anchor and item, in grid order.
  function range(item) {
    const list = items();
    const to = list.indexOf(item);
    let from = list.findIndex((el) => el.dataset.asset === anchor);
    if (from < 0) from = to;
    const [a, b] = from < to ? [from, to] : [to, from];
    list.slice(a, b + 1).forEach((el) => selected.add(el.dataset.asset));
    anchor = item.dataset.asset;
  }

  function selectAll() {
    items().forEach((el) => selected.add(el.dataset.asset));
    show();
  }

  function clear() {
    selected.clear();
    anchor = null;
    show();
  }

  // Clicks: the box toggles (shift: a range); on a file, shift selects a
  // range, Ctrl/⌘ toggles, and while anything is selected a plain click
  // toggles too. Otherwise a click opens the file (viewer.js).
  document.addEventListener('click', (e) => {
    const item = itemOf(e.target);
    if (!item || e.button !== 0) return;
    const box = e.target.closest('.select-box');
    if (box) {
      if (e.shiftKey && anchor) range(item); else toggle(item, box.checked);
      show();
      return;
    }
    if (!e.target.closest('a[href^="/assets/"]')) return;
    // A click made by the keyboard (Enter: detail 0) opens the file, even
    // while something is selected; Space selects (below).
    if (e.detail === 0) return;
    if (e.shiftKey) range(item);
    else if (e.ctrlKey || e.metaKey || selected.size > 0) toggle(item);
    else return;
    e.preventDefault();
    show();
  });

  // ---- Keyboard: moving through the grid ---------------------------------

  // neighbour is the file to go to from item by key, in grid order; up and
  // down keep the column (list view: the row above or below).
  function neighbour(item, key) {
    const list = items();
    const i = list.indexOf(item);
    if (key === 'ArrowLeft') return list[i - 1];
    if (key === 'ArrowRight') return list[i + 1];
    if (key === 'Home') return list[0];
    if (key === 'End') return list[list.length - 1];
    const down = key === 'ArrowDown';
    const box = item.getBoundingClientRect();
    const rows = list.filter((el) => {
      const r = el.getBoundingClientRect();
      return down ? r.top >= box.bottom - 1 : r.bottom <= box.top + 1;
    });
    if (!rows.length) return null;
    // The nearest row, then the nearest column in it.
    const rowTop = down ? Math.min(...rows.map((el) => el.getBoundingClientRect().top)) : Math.max(...rows.map((el) => el.getBoundingClientRect().top));
    const row = rows.filter((el) => Math.abs(el.getBoundingClientRect().top - rowTop) < 2);
    return row.reduce((best, el) => Math.abs(el.getBoundingClientRect().left - box.left) < Math.abs(best.getBoundingClientRect().left - box.left) ? el : best);
  }

  function typing(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) && !(t.type === 'checkbox'));
  }

  // The folder drawer or an open menu (layout.js) has the keyboard: its
  // Esc closes it (and is marked used), Ctrl+A stays inside it.
  function overlaid() {
    return !!document.querySelector('.library.drawer-open, .menu-toggle[aria-expanded="true"]');
  }

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || overlaid() || document.querySelector('dialog[open]') || e.altKey) return;
    if (e.key === '?' && !typing(e.target)) {
      e.preventDefault();
      $('#shortcuts').showModal();
      return;
    }
    const item = itemOf(e.target);
    if ((e.ctrlKey || e.metaKey) && (e.key === 'a' || e.key === 'A') && (item || !typing(e.target))) {
      e.preventDefault();
      selectAll();
      return;
    }
    if (e.key === 'Escape' && selected.size) { clear(); return; }
    if (!item || e.ctrlKey || e.metaKey) return;
    if (['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End'].includes(e.key)) {
      const next = neighbour(item, e.key);
      e.preventDefault();
      if (!next) return;
      if (e.shiftKey) { if (!anchor) anchor = item.dataset.asset; range(next); show(); }
      linkOf(next).focus();
      next.scrollIntoView({ block: 'nearest' });
      return;
    }
    if (e.key === ' ' && !e.target.closest('.select-box')) {
      e.preventDefault();
      toggle(item);
      show();
    }
  });

  // "Skip to assets" lands on the first file, not only near it.
  document.addEventListener('click', (e) => {
    if (!e.target.closest('#skip-assets')) return;
    const first = items()[0];
    if (!first) return;
    e.preventDefault();
    linkOf(first).focus();
  });

  // ---- Actions ---------------------------------------------------------

  const ids = () => Array.from(selected, Number);

  // report shows the outcome of a bulk request: a toast for the files
  // changed and, when some were not, each with its reason.
  function report(r, done) {
    if (!r.ok) {
      if (r.status !== 423) shelf().toast(r.error.message, 'error');
      return false;
    }
    const { succeeded = 0, failed = 0, results = [] } = r.data;
    if (succeeded) shelf().toast(done(succeeded) + (failed ? '; ' + failed + ' not.' : '.'), 'ok');
    const failures = results.filter((x) => !x.ok);
    if (failures.length) {
      const list = $('#bulk-result-list');
      list.replaceChildren(...failures.map((x) => {
        const li = document.createElement('li');
        const b = document.createElement('strong');
        b.textContent = nameOf(String(x.asset_id));
        li.append(b, ': ' + x.error.message);
        return li;
      }));
      $('#bulk-result-summary').textContent = plural(failed, 'file') + ' of ' + results.length + ' could not be changed:';
      $('#bulk-result').showModal();
    }
    // Changed files leave the selection; the ones that failed stay.
    results.forEach((x) => { if (x.ok) selected.delete(String(x.asset_id)); });
    shelf().refreshView().then(show);
    return true;
  }

  function dialogError(dlg, msg) {
    const el = $('.form-error', dlg);
    el.textContent = msg;
    el.hidden = !msg;
  }

  function wireCancel(dlg) {
    $$('.cancel', dlg).forEach((b) => b.addEventListener('click', () => dlg.close()));
  }

  const splitTags = (v) => v.split(',').map((t) => t.trim()).filter(Boolean);

  function initTag() {
    const dlg = $('#bulk-tag-dialog');
    if (!dlg) return;
    wireCancel(dlg);
    $('#bulk-tag').addEventListener('click', () => {
      $('form', dlg).reset();
      dialogError(dlg, '');
      dlg.showModal();
    });
    $('form', dlg).addEventListener('submit', async (e) => {
      e.preventDefault();
      const add = splitTags($('#bulk-tag-add').value), remove = splitTags($('#bulk-tag-remove').value);
      if (!add.length && !remove.length) {
        dialogError(dlg, 'Enter at least one tag to add or remove.');
        $('#bulk-tag-add').focus();
        return;
      }
      const r = await shelf().api('POST', '/assets/bulk/tag', { asset_ids: ids(), add, remove });
      if (!r.ok && r.status !== 423) { dialogError(dlg, r.error.message); return; }
      dlg.close();
      report(r, (n) => 'Tagged ' + plural(n, 'file'));
    });
  }

  function initMove() {
    const dlg = $('#bulk-move-dialog');
    if (!dlg) return;
    wireCancel(dlg);
    const list = $('#bulk-move-folders');
    let path = [];
    const here = () => (path.length ? path[path.length - 1] : { id: null, name: 'Library (top level)' });
    async function browse() {
      $('#bulk-move-where').textContent = ['Library'].concat(path.map((f) => f.name)).join(' / ');
      $('#bulk-move-up').disabled = path.length === 0;
      list.replaceChildren();
      const r = await shelf().api('GET', '/folders' + (here().id ? '?parent=' + here().id : ''));
      if (!r.ok) { dialogError(dlg, r.error.message); return; }
      const folders = r.data.folders || [];
      if (!folders.length) {
        const li = document.createElement('li');
        li.className = 'muted';
        li.textContent = 'No folders inside.';
        list.append(li);
      }
      folders.forEach((f) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'with-icon folder';
        b.textContent = f.name;
        b.addEventListener('click', () => { path.push(f); browse(); });
        li.append(b);
        list.append(li);
      });
    }
    $('#bulk-move').addEventListener('click', () => {
      path = [];
      dialogError(dlg, '');
      dlg.showModal();
      browse();
    });
    $('#bulk-move-up').addEventListener('click', () => { path.pop(); browse(); });
    $('#bulk-move-here').addEventListener('click', async () => {
      const r = await shelf().api('POST', '/assets/bulk/move', { asset_ids: ids(), folder_id: here().id });
      if (!r.ok && r.status !== 423) { dialogError(dlg, r.error.message); return; }
      dlg.close();
      report(r, (n) => 'Moved ' + plural(n, 'file') + ' to ' + here().name);
    });
  }

  function initDelete() {
    const b = $('#bulk-delete');
    if (!b) return;
    b.addEventListener('click', async () => {
      const n = selected.size;
      const what = n === 1 ? '“' + nameOf(ids()[0]) + '”' : plural(n, 'file');
      if (!await shelf().confirmDialog('Delete ' + what + ' from the library and the storage?', 'Delete ' + plural(n, 'file'))) return;
      const r = await shelf().api('POST', '/assets/bulk/delete', { asset_ids: ids() });
      report(r, (k) => 'Deleted ' + plural(k, 'file'));
    });
  }

  // The zip is a form post into a hidden frame: the browser downloads the
  // stream itself, and a refusal (JSON in the frame) is shown here.
  function initZip() {
    const frame = $('#zip-frame');
    frame.addEventListener('load', () => {
      let error = null;
      try {
        error = JSON.parse(frame.contentDocument.body.textContent).error;
      } catch (e) { /* not JSON: nothing to say */ }
      if (error) shelf().toast(error.message, 'error', 12000);
    });
    $('#bulk-zip').addEventListener('click', () => {
      const form = $('#zip-form');
      form.elements.asset_ids.value = ids().join(',');
      form.elements.csrf_token.value = body.dataset.csrf || form.elements.csrf_token.value;
      form.submit();
      shelf().toast('Preparing the zip of ' + plural(selected.size, 'file') + '; the download starts in a moment.', 'info', 5000);
    });
  }

  $('#bulk-all').addEventListener('click', selectAll);
  $('#bulk-clear').addEventListener('click', clear);
  initTag();
  initMove();
  initDelete();
  initZip();
  // After a refresh or "Load more", the new grid shows the selection.
  const holdsFiles = (n) => n.nodeType === 1 && (n.matches('[data-asset], #items, .library') || !!n.querySelector('[data-asset]'));
  new MutationObserver((muts) => {
    if (muts.some((m) => Array.from(m.addedNodes).some(holdsFiles) || Array.from(m.removedNodes).some(holdsFiles))) show();
  }).observe($('main') || body, { childList: true, subtree: true });
  show();
  window.shelfSelection = { size: () => selected.size, ids, clear };
})();
