// Shelf upload conflicts: when a file being uploaded has the name of one
// already in the folder, ask whether to replace it, keep both (the upload
// gets the next free "name (2).ext") or skip it — for this file or for
// every other conflict of the same upload — and sum up what each upload
// did. app.js's uploader uses window.shelfUploads; the server side is the
// on_conflict parameter of POST /api/v1/assets (docs/api.md).
(() => {
  'use strict';

  // Questions are asked one at a time, in the order the conflicts arise.
  let chain = Promise.resolve();

  // newBatch returns the conflict state of one upload (one choice of
  // files): the mode chosen "for all" (null until then) and its counts.
  function newBatch() {
    return { all: null, created: 0, renamed: 0, replaced: 0, skipped: 0, failed: [] };
  }

  // ask resolves to the mode for a file whose name is taken: 'replace',
  // 'keep_both' or 'skip'. A choice for all of batch answers at once;
  // closing the dialog (Esc) skips the file, which loses nothing.
  function ask(batch, name) {
    const next = chain.then(() => batch.all || show(batch, name));
    chain = next.catch(() => null);
    return next;
  }

  function show(batch, name) {
    return new Promise((resolve) => {
      const d = document.createElement('dialog');
      d.id = 'conflict-dialog';
      d.setAttribute('aria-labelledby', 'conflict-title');
      d.setAttribute('aria-describedby', 'conflict-text');
      d.innerHTML = '<form method="dialog" class="stack"><h2 id="conflict-title"></h2>' +
        '<p id="conflict-text"></p>' +
        '<div class="field check"><input type="checkbox" id="conflict-all"><label for="conflict-all">Do the same for every other name that already exists in this upload</label></div>' +
        '<div class="row conflict-choices">' +
        '<button value="replace" class="danger">Replace</button>' +
        '<button value="keep_both" class="primary" autofocus>Keep both</button>' +
        '<button value="skip">Skip</button></div></form>';
      d.querySelector('h2').textContent = '“' + shortName(name) + '” already exists';
      d.querySelector('#conflict-text').textContent = 'A file named “' + shortName(name) + '” is already in this folder. ' +
        'Replace it (it keeps its title, tags and other details), keep both (the upload is saved as “' + shortName(numbered(name)) + '”), or skip this file?';
      d.addEventListener('close', () => {
        const mode = ['replace', 'keep_both', 'skip'].includes(d.returnValue) ? d.returnValue : 'skip';
        if (d.querySelector('#conflict-all').checked) batch.all = mode;
        d.remove();
        resolve(mode);
      });
      document.body.append(d);
      d.showModal();
    });
  }

  function shortName(name, max = 60) {
    return name.length > max ? name.slice(0, max - 1) + '…' : name;
  }

  // numbered is the first name "keep both" tries, as the server numbers
  // (library.numbered): "photo.jpg" → "photo (2).jpg", and a name that
  // carries a number continues it: "photo (2).jpg" → "photo (3).jpg" (the
  // server takes the next free number from there).
  function numbered(name) {
    const dot = name.lastIndexOf('.');
    let stem = dot > 0 ? name.slice(0, dot) : name;
    const ext = dot > 0 ? name.slice(dot) : '';
    let n = 2;
    const m = /^(.*) \(([0-9]{1,6})\)$/.exec(stem);
    if (m && m[1] !== '' && Number(m[2]) >= 2) {
      stem = m[1];
      n = Number(m[2]) + 1;
    }
    return stem + ' (' + n + ')' + ext;
  }

  // taken asks the library whether folder (null: the top level) holds a
  // file named name, before its content is sent. It answers false when it
  // cannot tell: the upload's own 409 then asks instead.
  async function taken(api, folder, name) {
    const q = new URLSearchParams({ q: name, limit: '100' });
    if (folder !== null) q.set('folder', String(folder));
    const r = await api('GET', '/assets?' + q.toString());
    if (!r.ok || !r.data || !Array.isArray(r.data.assets)) return false;
    return r.data.assets.some((a) => a.name === name && (a.folder_id === undefined ? null : a.folder_id) === folder);
  }

  // record counts one file's answer (the JSON of its upload) and returns
  // the words for its line in the list.
  function record(batch, result) {
    const outcome = result && result.outcome;
    switch (outcome) {
      case 'replaced': batch.replaced++; return 'replaced';
      case 'skipped': batch.skipped++; return 'skipped';
      case 'renamed': batch.renamed++; return 'kept as “' + shortName((result.asset && result.asset.name) || '') + '”';
      default: batch.created++; return 'done';
    }
  }

  function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }

  // summary is what a finished upload did, in words.
  function summary(batch) {
    const parts = [];
    const stored = batch.created + batch.renamed;
    if (stored) parts.push('Uploaded ' + plural(stored, 'file', 'files') + (batch.renamed ? ' (' + batch.renamed + ' under a new name)' : ''));
    if (batch.replaced) parts.push('replaced ' + plural(batch.replaced, 'file', 'files'));
    if (batch.skipped) parts.push('skipped ' + plural(batch.skipped, 'file', 'files'));
    if (batch.failed.length) parts.push(plural(batch.failed.length, 'file', 'files') + ' failed');
    if (!parts.length) return '';
    const text = parts.join(', ');
    return text.charAt(0).toUpperCase() + text.slice(1) + '.';
  }

  // showSummary puts the summary above the upload list (the page keeps
  // both when it refreshes the view), with the reason of each failure,
  // replacing the previous upload's.
  function showSummary(batch, list) {
    const old = document.getElementById('upload-summary');
    if (old) old.remove();
    const text = summary(batch);
    if (!text || !list) return text;
    const box = document.createElement('div');
    box.id = 'upload-summary';
    box.className = 'upload-summary' + (batch.failed.length ? ' has-failures' : '');
    box.setAttribute('role', 'status');
    const p = document.createElement('p');
    p.textContent = text;
    box.append(p);
    if (batch.failed.length) {
      const ul = document.createElement('ul');
      for (const f of batch.failed) {
        const li = document.createElement('li');
        li.textContent = f.name + ': ' + f.reason;
        ul.append(li);
      }
      box.append(ul);
    }
    list.before(box);
    return text;
  }

  window.shelfUploads = { newBatch, ask, taken, record, summary, showSummary };
})();
