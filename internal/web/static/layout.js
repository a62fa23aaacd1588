// Shelf page layout on small screens: the library's folder drawer, its
// search filters and folder-actions menu, and copy buttons' neighbours.
// Every handler is delegated from the document, so parts of the page that
// app.js replaces (the library after a sync) keep working without setup.
(() => {
  'use strict';

  // A disclosure: a button with aria-expanded and aria-controls (one or
  // more ids) that shows its targets by setting .open on them.
  function setOpen(btn, open) {
    btn.setAttribute('aria-expanded', String(open));
    (btn.getAttribute('aria-controls') || '').split(/\s+/).forEach((id) => {
      const el = id && document.getElementById(id);
      if (el) el.classList.toggle('open', open);
    });
  }

  function isOpen(btn) { return btn.getAttribute('aria-expanded') === 'true'; }

  // ---- Folder drawer (phones) --------------------------------------------

  function drawerParts() {
    return {
      lib: document.querySelector('.library'),
      toggle: document.querySelector('.drawer-toggle'),
      backdrop: document.querySelector('.drawer-backdrop'),
      drawer: document.getElementById('folders-drawer'),
    };
  }

  function openDrawer() {
    const p = drawerParts();
    if (!p.lib || !p.toggle) return;
    p.lib.classList.add('drawer-open');
    p.backdrop.hidden = false;
    setOpen(p.toggle, true);
    // Focus the current folder, else the first link, inside the drawer.
    const target = p.drawer.querySelector('a[aria-current="page"]') || p.drawer.querySelector('a, button');
    if (target) target.focus();
  }

  function closeDrawer(restoreFocus) {
    const p = drawerParts();
    if (!p.lib || !p.lib.classList.contains('drawer-open')) return;
    p.lib.classList.remove('drawer-open');
    p.backdrop.hidden = true;
    setOpen(p.toggle, false);
    if (restoreFocus) p.toggle.focus();
  }

  // ---- Menus (folder actions) and filters ----------------------------------

  function closeMenus(except) {
    document.querySelectorAll('.menu-toggle[aria-expanded="true"]').forEach((b) => {
      if (b !== except) setOpen(b, false);
    });
  }

  document.addEventListener('click', (e) => {
    const t = e.target;
    if (t.closest('.drawer-toggle')) { openDrawer(); return; }
    if (t.closest('[data-drawer-close]')) { closeDrawer(true); return; }
    const menuBtn = t.closest('.menu-toggle');
    if (menuBtn) {
      closeMenus(menuBtn);
      setOpen(menuBtn, !isOpen(menuBtn));
      if (isOpen(menuBtn)) {
        const first = document.getElementById(menuBtn.getAttribute('aria-controls')).querySelector('button:not([disabled])');
        if (first) first.focus();
      }
      return;
    }
    // A choice in a menu, or a click elsewhere, closes open menus.
    closeMenus(null);
    const filters = t.closest('.filters-toggle');
    if (filters) setOpen(filters, !isOpen(filters));
    // Following a link in the drawer leaves the page; close it for the
    // back/forward cache.
    if (t.closest('#folders-drawer a')) closeDrawer(false);
  });

  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape') return;
    const menu = document.querySelector('.menu-toggle[aria-expanded="true"]');
    // preventDefault tells the page's other Esc handlers (select.js clears
    // the selection) that this Esc was used.
    if (menu) { e.preventDefault(); setOpen(menu, false); menu.focus(); return; }
    if (document.querySelector('.library.drawer-open')) { e.preventDefault(); closeDrawer(true); }
  });

  // Keep Tab inside the open drawer (it covers the page like a dialog).
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Tab') return;
    const p = drawerParts();
    if (!p.lib || !p.lib.classList.contains('drawer-open')) return;
    const items = Array.from(p.drawer.querySelectorAll('a[href], button:not([disabled])')).filter((el) => el.offsetParent !== null);
    if (!items.length) return;
    const first = items[0], last = items[items.length - 1];
    if (!p.drawer.contains(document.activeElement)) { e.preventDefault(); first.focus(); }
    else if (e.shiftKey && document.activeElement === first) { e.preventDefault(); last.focus(); }
    else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
  });

  // Growing to desktop width closes the drawer (the sidebar is back).
  const wide = window.matchMedia('(min-width: 721px)');
  wide.addEventListener('change', () => { if (wide.matches) closeDrawer(false); });

  // What a refresh of the library (app.js replaces the whole element after
  // a change) must keep: the open drawer and the open menu or filters.
  function saveState() {
    return {
      drawer: !!document.querySelector('.library.drawer-open'),
      open: Array.from(document.querySelectorAll('.menu-toggle[aria-expanded="true"], .filters-toggle[aria-expanded="true"]'))
        .map((b) => b.getAttribute('aria-controls')),
    };
  }

  function restoreState(st) {
    if (!st) return;
    if (st.drawer) {
      const p = drawerParts();
      if (p.lib && p.toggle) {
        p.lib.classList.add('drawer-open');
        p.backdrop.hidden = false;
        setOpen(p.toggle, true);
      }
    }
    st.open.forEach((ids) => {
      const b = document.querySelector('[aria-controls="' + CSS.escape(ids) + '"]');
      if (b) setOpen(b, true);
    });
  }

  window.shelfLayout = { openDrawer, closeDrawer, saveState, restoreState };
})();
