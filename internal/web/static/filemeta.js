// Settings → Storage: saves the account setting write_metadata_to_files
// as soon as its box changes, and says whether it worked.
(function () {
  'use strict';
  const box = document.getElementById('write-metadata');
  const status = document.getElementById('write-metadata-status');
  if (!box || !status) return;

  function csrfToken() {
    if (document.body.dataset.csrf) return document.body.dataset.csrf;
    const m = document.cookie.match(/(?:^|;\s*)shelf_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : '';
  }

  box.addEventListener('change', async function () {
    const want = box.checked;
    box.disabled = true;
    status.textContent = 'Saving…';
    let message;
    try {
      const res = await fetch('/api/v1/account', {
        method: 'PATCH',
        credentials: 'same-origin',
        headers: { 'Accept': 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': csrfToken() },
        body: JSON.stringify({ write_metadata_to_files: want }),
      });
      const data = await res.json().catch(() => null);
      if (res.ok && data && data.account && data.account.write_metadata_to_files === want) {
        message = want ? 'On: edits are written into the files.' : 'Off: edits stay in Shelf.';
      } else {
        box.checked = !want;
        message = 'Not saved: ' + ((data && data.error && data.error.message) || ('the server answered ' + res.status)) + '.';
      }
    } catch (e) {
      box.checked = !want;
      message = 'Not saved: Shelf could not be reached; check your connection and try again.';
    }
    box.disabled = false;
    status.textContent = message;
  });
})();
