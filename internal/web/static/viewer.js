// Shelf library: the viewer. A click on a file (or Enter on it) shows its
// preview over the whole window; ← / → go through the files in the grid's
// order (the neighbours' previews load ahead), zoom by the buttons, + / − /
// 0, double-click, the wheel or a pinch, and Esc closes it, returning
// focus to the file's card.
(() => {
  'use strict';

  const $ = (sel, root = document) => root.querySelector(sel);
  const dlg = $('#viewer');
  if (!dlg) return;
  const stage = $('#viewer-stage');
  const img = $('#viewer-img');
  const items = () => Array.from(document.querySelectorAll('#items [data-asset]'));

  const MIN = 1, MAX = 8;
  let currentId = null; // the asset shown
  // The grid is replaced when the page refreshes: find the item again.
  const itemByID = (id) => (id ? $('#items [data-asset="' + id + '"]') : null);
  let zoom = { s: 1, x: 0, y: 0 };

  // previewURL is the large preview of an item, at the version its
  // thumbnail shows.
  function previewURL(item) {
    const thumb = $('img', item);
    const src = thumb ? thumb.getAttribute('src') : '/api/v1/assets/' + item.dataset.asset + '/thumb';
    return src.includes('?') ? src.replace('?', '?size=preview&') : src + '?size=preview';
  }

  function show(item) {
    currentId = item.dataset.asset;
    const list = items();
    const i = list.indexOf(item);
    resetZoom();
    img.src = previewURL(item);
    img.alt = 'Preview of ' + item.dataset.name;
    const name = $('#viewer-name');
    name.textContent = item.dataset.name;
    name.href = '/assets/' + item.dataset.asset;
    name.title = 'Open the details of ' + item.dataset.name;
    $('#viewer-pos').textContent = (i + 1) + ' of ' + list.length;
    $('#viewer-prev').disabled = i <= 0;
    $('#viewer-next').disabled = i >= list.length - 1 && !more();
    // Load the neighbours' previews now, so ← / → show them at once.
    [list[i - 1], list[i + 1]].forEach((n) => { if (n) new Image().src = previewURL(n); });
  }

  function open(item) {
    show(item);
    if (!dlg.open) dlg.showModal();
    // The stage, not a button: the Enter that opened the viewer must not
    // press one of its buttons too.
    stage.focus();
  }

  // more is the grid's "Load more" link while the folder has more files
  // than the page shows.
  const more = () => $('#items [data-more]');

  function step(by) {
    const list = items();
    const i = list.indexOf(itemByID(currentId));
    if (i < 0) return;
    if (list[i + by]) { show(list[i + by]); return; }
    // Past the last file loaded: load the next page of the grid (app.js
    // does it on the link's click), then go on.
    const link = by > 0 && more();
    if (!link) return;
    if (!link.dataset.loading) link.click();
    const from = currentId, deadline = Date.now() + 15000;
    const wait = () => {
      if (!dlg.open || currentId !== from) return;
      const next = items()[i + by];
      if (next) show(next); else if (Date.now() < deadline) setTimeout(wait, 100);
    };
    wait();
  }

  // A preview made while it is shown (its card's thumbnail changes to the
  // new version, see app.js) replaces the icon shown meanwhile.
  new MutationObserver(() => {
    const item = dlg.open && itemByID(currentId);
    if (!item) return;
    const url = new URL(previewURL(item), location.href).href;
    if (img.src !== url) img.src = url;
  }).observe($('main') || document.body, { subtree: true, attributes: true, attributeFilter: ['src'] });

  // ---- Zoom and pan ------------------------------------------------------

  function apply() {
    img.style.transform = zoom.s === 1 ? '' : 'translate(' + zoom.x + 'px,' + zoom.y + 'px) scale(' + zoom.s + ')';
    stage.classList.toggle('zoomed', zoom.s > 1);
    $('#viewer-zoom-reset').textContent = Math.round(zoom.s * 100) + '%';
    dlg.dataset.zoom = String(zoom.s);
  }

  function resetZoom() {
    zoom = { s: 1, x: 0, y: 0 };
    apply();
  }

  // zoomTo scales to s keeping the point (cx, cy) of the window still
  // (default: the middle of the image).
  function zoomTo(s, cx, cy) {
    s = Math.min(MAX, Math.max(MIN, s));
    if (s === MIN) { resetZoom(); return; }
    const base = stage.getBoundingClientRect();
    const left = base.left + img.offsetLeft, top = base.top + img.offsetTop; // the image's unzoomed corner
    if (cx === undefined) { cx = left + img.offsetWidth / 2; cy = top + img.offsetHeight / 2; }
    const ux = cx - left, uy = cy - top;
    const qx = (ux - zoom.x) / zoom.s, qy = (uy - zoom.y) / zoom.s; // the image point under (cx, cy)
    zoom = { s, x: ux - s * qx, y: uy - s * qy };
    apply();
  }

  $('#viewer-zoom-in').addEventListener('click', () => zoomTo(zoom.s * 1.5));
  $('#viewer-zoom-out').addEventListener('click', () => zoomTo(zoom.s / 1.5));
  $('#viewer-zoom-reset').addEventListener('click', resetZoom);
  stage.addEventListener('dblclick', (e) => { if (zoom.s > 1) resetZoom(); else zoomTo(2.5, e.clientX, e.clientY); });
  stage.addEventListener('wheel', (e) => {
    e.preventDefault();
    zoomTo(zoom.s * Math.exp(-e.deltaY / 300), e.clientX, e.clientY);
  }, { passive: false });

  // Pointers: one drags a zoomed image, two pinch.
  const pointers = new Map();
  let pinch = null;
  const spread = () => { const [a, b] = Array.from(pointers.values()); return Math.hypot(a.x - b.x, a.y - b.y); };
  stage.addEventListener('pointerdown', (e) => {
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    try { stage.setPointerCapture(e.pointerId); } catch (err) { /* a pointer already gone */ }
    if (pointers.size === 2) pinch = { d: spread(), s: zoom.s };
  });
  stage.addEventListener('pointermove', (e) => {
    const p = pointers.get(e.pointerId);
    if (!p) return;
    const dx = e.clientX - p.x, dy = e.clientY - p.y;
    p.x = e.clientX; p.y = e.clientY;
    if (pinch && pointers.size === 2) {
      const [a, b] = Array.from(pointers.values());
      zoomTo(pinch.s * spread() / pinch.d, (a.x + b.x) / 2, (a.y + b.y) / 2);
    } else if (zoom.s > 1) {
      zoom.x += dx; zoom.y += dy;
      apply();
    }
  });
  const up = (e) => { pointers.delete(e.pointerId); if (pointers.size < 2) pinch = null; };
  stage.addEventListener('pointerup', up);
  stage.addEventListener('pointercancel', up);

  // ---- Opening, keys, closing ---------------------------------------------

  document.addEventListener('click', (e) => {
    const link = e.target.closest('#items [data-asset] a[href^="/assets/"]');
    if (!link || e.defaultPrevented || e.button !== 0 || e.shiftKey || e.ctrlKey || e.metaKey || e.altKey) return;
    e.preventDefault();
    open(link.closest('[data-asset]'));
  });

  dlg.addEventListener('keydown', (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const keys = {
      ArrowLeft: () => step(-1), ArrowRight: () => step(1),
      '+': () => zoomTo(zoom.s * 1.5), '=': () => zoomTo(zoom.s * 1.5),
      '-': () => zoomTo(zoom.s / 1.5), '0': resetZoom,
      '?': () => { dlg.close(); $('#shortcuts').showModal(); },
    };
    const fn = keys[e.key];
    if (!fn) return;
    e.preventDefault();
    fn();
  });
  $('#viewer-prev').addEventListener('click', () => step(-1));
  $('#viewer-next').addEventListener('click', () => step(1));
  $('#viewer-close').addEventListener('click', () => dlg.close());
  dlg.addEventListener('close', () => {
    img.removeAttribute('src');
    const item = itemByID(currentId);
    const link = item && item.querySelector('a[href^="/assets/"]');
    if (link) { link.focus(); item.scrollIntoView({ block: 'nearest' }); }
    currentId = null;
  });

  window.shelfViewer = { open: (id) => { const el = itemByID(String(id)); if (el) open(el); } };
})();
