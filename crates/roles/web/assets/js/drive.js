// streamvault: the drive page. Resumable uploads with tus-js-client (several at once, pause and
// resume, resume after a reload when the same file is chosen again), folders, rename, move,
// delete and share links through the JSON API. After a change the page reloads.
'use strict';

(function () {
  const root = document.getElementById('drive');
  if (!root || !window.sv) return;
  const sv = window.sv;

  const folderId = root.dataset.folderId || '';
  const ENDPOINT = new URL('/stream/v1/tus/', location.href).href;
  const CHUNK = 4 * 1024 * 1024;
  const RETRY = [0, 1000, 3000, 5000, 10000, 20000];

  const input = document.getElementById('drive-files');
  const zone = document.getElementById('drive-drop');
  const list = document.getElementById('uploads');

  let active = 0;
  let finished = 0;
  let reloadTimer = null;

  const reload = () => location.reload();

  // ---------- dialogs ----------

  /**
   * Opens `dialog`; its form's submit runs `action()` (async). An error keeps the dialog open and
   * shows its message; success closes it and resolves true. Cancel/Escape resolve false.
   */
  function runDialog(dialog, action) {
    const form = dialog.querySelector('form');
    const error = dialog.querySelector('.form-error');
    const buttons = dialog.querySelectorAll('button');
    error.hidden = true;
    error.textContent = '';
    return new Promise((resolve) => {
      let done = false;
      const finish = (value) => {
        if (done) return;
        done = true;
        form.removeEventListener('submit', onSubmit);
        dialog.removeEventListener('close', onClose);
        for (const b of dialog.querySelectorAll('[data-close]')) b.removeEventListener('click', onCancel);
        if (dialog.open) dialog.close();
        resolve(value);
      };
      const onSubmit = async (e) => {
        e.preventDefault();
        buttons.forEach((b) => (b.disabled = true));
        try {
          await action();
          finish(true);
        } catch (err) {
          error.textContent = (err && err.message) || 'That did not work.';
          error.hidden = false;
        } finally {
          buttons.forEach((b) => (b.disabled = false));
        }
      };
      const onClose = () => finish(false);
      const onCancel = () => finish(false);
      form.addEventListener('submit', onSubmit);
      dialog.addEventListener('close', onClose);
      for (const b of dialog.querySelectorAll('[data-close]')) b.addEventListener('click', onCancel);
      dialog.showModal();
    });
  }

  function nameDialog({ heading, label, value, ok }, action) {
    const dialog = document.getElementById('name-dialog');
    const field = document.getElementById('name-dialog-input');
    dialog.querySelector('h2').textContent = heading;
    document.getElementById('name-dialog-label').textContent = label;
    document.getElementById('name-dialog-ok').textContent = ok;
    field.value = value || '';
    const p = runDialog(dialog, () => {
      const name = field.value.trim();
      if (!name) throw new Error('Type a name.');
      return action(name);
    });
    field.focus();
    // Select the name without its extension, like file managers do.
    const dot = field.value.lastIndexOf('.');
    field.setSelectionRange(0, dot > 0 ? dot : field.value.length);
    return p;
  }

  function confirmDialog(heading, text, ok, action) {
    const dialog = document.getElementById('confirm-dialog');
    dialog.querySelector('h2').textContent = heading;
    document.getElementById('confirm-dialog-text').textContent = text;
    document.getElementById('confirm-dialog-ok').textContent = ok;
    return runDialog(dialog, action);
  }

  // ---------- folders for "Move" ----------

  /** Every folder of the user as `{id, name, parent, path, depth}`, walking the tree (bounded). */
  async function allFolders() {
    const out = [];
    const queue = [{ id: '', path: '', depth: 0 }];
    let requests = 0;
    while (queue.length && requests < 200) {
      const at = queue.shift();
      requests++;
      const q = at.id ? `?parent_id=${encodeURIComponent(at.id)}` : '';
      const res = await sv.api('GET', `/api/v1/folders${q}`);
      for (const f of (res && res.folders) || []) {
        const path = at.path ? `${at.path} / ${f.name}` : f.name;
        const entry = { id: f.id, name: f.name, parent: at.id, path, depth: at.depth + 1 };
        out.push(entry);
        queue.push(entry);
      }
    }
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  async function moveDialog(kind, id, name) {
    const dialog = document.getElementById('move-dialog');
    const select = document.getElementById('move-dialog-select');
    dialog.querySelector('h2').textContent = `Move ${name}`;
    select.innerHTML = '';
    const loading = document.createElement('option');
    loading.textContent = 'Loading folders…';
    select.appendChild(loading);
    select.disabled = true;
    const p = runDialog(dialog, async () => {
      const dest = select.value;
      if (select.disabled) throw new Error('The folder list is still loading.');
      if (kind === 'file') {
        await sv.api('PATCH', `/api/v1/files/${encodeURIComponent(id)}`, { folder_id: dest || null });
      } else {
        await sv.api('PATCH', `/api/v1/folders/${encodeURIComponent(id)}`, { parent_id: dest || null });
      }
    });
    try {
      let folders = await allFolders();
      if (kind === 'folder') {
        // Not into itself or anything below it.
        const banned = new Set([id]);
        let grew = true;
        while (grew) {
          grew = false;
          for (const f of folders) {
            if (!banned.has(f.id) && banned.has(f.parent)) {
              banned.add(f.id);
              grew = true;
            }
          }
        }
        folders = folders.filter((f) => !banned.has(f.id));
      }
      select.innerHTML = '';
      const top = document.createElement('option');
      top.value = '';
      top.textContent = 'My drive';
      select.appendChild(top);
      for (const f of folders) {
        const opt = document.createElement('option');
        opt.value = f.id;
        opt.textContent = `${'\u00a0\u00a0'.repeat(f.depth)}${f.name}`;
        opt.title = f.path;
        select.appendChild(opt);
      }
      select.value = folderId;
      select.disabled = false;
      select.focus();
    } catch (err) {
      const error = dialog.querySelector('.form-error');
      error.textContent = err.message;
      error.hidden = false;
    }
    return p;
  }

  // ---------- share ----------

  function shareDialog(id, name) {
    const dialog = document.getElementById('share-dialog');
    const url = document.getElementById('share-dialog-url');
    const expiry = document.getElementById('share-dialog-expiry');
    const expires = document.getElementById('share-dialog-expires');
    const copy = document.getElementById('share-dialog-copy');
    const error = dialog.querySelector('.form-error');
    dialog.querySelector('h2').textContent = `Share ${name}`;
    url.value = '';
    expires.textContent = '';

    const make = async () => {
      url.value = 'Creating a link…';
      copy.disabled = true;
      try {
        const link = await sv.api('POST', `/api/v1/files/${encodeURIComponent(id)}/share`, {
          expires_in_secs: Number(expiry.value),
        });
        url.value = link.url || new URL(link.path, location.href).href;
        expires.textContent = `Works until ${new Date(link.expires_at).toLocaleString()}.`;
        copy.disabled = false;
        url.focus();
        url.select();
      } catch (err) {
        url.value = '';
        error.textContent = err.message;
        error.hidden = false;
      }
    };
    const onCopy = async () => {
      try {
        await navigator.clipboard.writeText(url.value);
      } catch (e) {
        url.select();
        document.execCommand('copy');
      }
      sv.toast('Link copied');
    };
    expiry.addEventListener('change', make);
    copy.addEventListener('click', onCopy);
    const p = runDialog(dialog, async () => {});
    make();
    return p.then((v) => {
      expiry.removeEventListener('change', make);
      copy.removeEventListener('click', onCopy);
      return v;
    });
  }

  // ---------- row actions ----------

  const table = document.querySelector('.drive-table');
  if (table) {
    table.addEventListener('click', async (e) => {
      const button = e.target.closest('button[data-action]');
      if (!button) return;
      const row = button.closest('.drive-row');
      const { kind, id, name } = row.dataset;
      const path = kind === 'file' ? `/api/v1/files/${encodeURIComponent(id)}` : `/api/v1/folders/${encodeURIComponent(id)}`;
      const what = kind === 'file' ? 'file' : 'folder';
      let changed = false;
      switch (button.dataset.action) {
        case 'rename':
          changed = await nameDialog({ heading: `Rename ${name}`, label: 'New name', value: name, ok: 'Rename' }, (n) =>
            sv.api('PATCH', path, { name: n }),
          );
          break;
        case 'move':
          changed = await moveDialog(kind, id, name);
          break;
        case 'delete':
          changed = await confirmDialog(
            `Delete ${name}?`,
            kind === 'file'
              ? 'The file is removed from your drive, and share links to it stop working.'
              : 'The folder and everything in it are removed from your drive.',
            'Delete',
            () => sv.api('DELETE', path),
          );
          break;
        case 'share':
          await shareDialog(id, name);
          break;
        default:
          return;
      }
      if (changed) {
        sv.toast(`The ${what} was updated.`);
        reload();
      } else {
        button.focus();
      }
    });
  }

  document.getElementById('new-folder').addEventListener('click', async () => {
    const created = await nameDialog({ heading: 'New folder', label: 'Folder name', value: '', ok: 'Create' }, (name) =>
      sv.api('POST', '/api/v1/folders', folderId ? { name, parent_id: folderId } : { name }),
    );
    if (created) reload();
  });

  // ---------- uploads ----------

  function uploadRow(name, size) {
    const li = document.createElement('li');
    li.className = 'upload-row';
    const label = document.createElement('span');
    label.className = 'upload-name';
    label.textContent = name;
    label.title = name;
    const actions = document.createElement('div');
    actions.className = 'form-actions';
    const pause = document.createElement('button');
    pause.type = 'button';
    pause.className = 'btn';
    pause.textContent = 'Pause';
    const resume = document.createElement('button');
    resume.type = 'button';
    resume.className = 'btn';
    resume.textContent = 'Resume';
    resume.hidden = true;
    actions.append(pause, resume);
    const progressRow = document.createElement('div');
    progressRow.className = 'progress-row';
    const bar = document.createElement('div');
    bar.className = 'progress';
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-label', `Uploading ${name}`);
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    bar.setAttribute('aria-valuenow', '0');
    const progress = document.createElement('progress');
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute('aria-hidden', 'true');
    bar.appendChild(progress);
    const pct = document.createElement('span');
    pct.className = 'progress-text';
    pct.textContent = '0%';
    progressRow.append(bar, pct);
    const detail = document.createElement('p');
    detail.className = 'upload-detail muted small';
    detail.textContent = `Waiting · ${sv.formatSize(size)}`;
    li.append(label, actions, progressRow, detail);
    list.appendChild(li);
    return { li, bar, pct, detail, pause, resume };
  }

  function allDone() {
    if (active > 0 || finished === 0) return;
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(reload, 800);
  }

  function startUpload(file) {
    clearTimeout(reloadTimer);
    const ui = uploadRow(file.name, file.size);
    let running = true;
    active++;

    const upload = new window.tus.Upload(file, {
      endpoint: ENDPOINT,
      chunkSize: CHUNK,
      retryDelays: RETRY,
      headers: { 'X-CSRF-Token': sv.csrf() },
      metadata: {
        filename: file.name,
        filetype: file.type || 'application/octet-stream',
        folder_id: folderId,
      },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onAfterResponse(req, res) {
        if (req.getMethod() === 'HEAD' && !ui.li.dataset.resumedFrom) {
          const offset = Number(res.getHeader('Upload-Offset'));
          if (offset > 0) {
            ui.li.dataset.resumedFrom = String(offset);
            ui.detail.textContent = `Resuming from ${sv.formatSize(offset)} of ${sv.formatSize(file.size)}`;
          }
        }
      },
      onProgress(sent, total) {
        const p = total > 0 ? (sent / total) * 100 : 100;
        sv.setProgress(ui.bar, p, `${Math.floor(p)}%`);
        ui.pct.textContent = `${Math.floor(p)}%`;
        const from = ui.li.dataset.resumedFrom;
        const prefix = from ? `Resumed from ${sv.formatSize(Number(from))} · ` : '';
        ui.detail.textContent = `${prefix}${sv.formatSize(sent)} of ${sv.formatSize(total)}`;
      },
      async onSuccess() {
        running = false;
        sv.setProgress(ui.bar, 100, 'Done');
        ui.pct.textContent = '100%';
        ui.li.classList.add('done');
        ui.pause.hidden = true;
        ui.resume.hidden = true;
        ui.detail.textContent = 'Uploaded';
        active--;
        finished++;
        allDone();
      },
      onError(err) {
        running = false;
        const res = err && err.originalResponse;
        let message = 'Upload failed. Press Resume to try again.';
        if (res) {
          try {
            const body = JSON.parse(res.getBody() || '{}');
            if (body.error) message = `Upload failed: ${body.error}`;
          } catch (e) {
            message = `Upload failed (status ${res.getStatus()}).`;
          }
        }
        ui.li.classList.add('failed');
        ui.detail.textContent = message;
        ui.pause.hidden = true;
        ui.resume.hidden = false;
        active--;
        allDone();
      },
    });

    ui.pause.addEventListener('click', () => {
      if (!running) return;
      running = false;
      upload.abort();
      active--;
      ui.li.classList.add('paused');
      ui.detail.textContent = `Paused at ${ui.pct.textContent}`;
      ui.pause.hidden = true;
      ui.resume.hidden = false;
      ui.resume.focus();
    });
    ui.resume.addEventListener('click', () => {
      if (running) return;
      running = true;
      active++;
      clearTimeout(reloadTimer);
      ui.li.classList.remove('paused', 'failed');
      ui.detail.textContent = 'Resuming…';
      ui.resume.hidden = true;
      ui.pause.hidden = false;
      ui.pause.focus();
      upload.start();
    });

    upload
      .findPreviousUploads()
      .then((previous) => {
        // Only an upload of this file into this folder (a video's upload is not a drive file).
        const match = previous.find(
          (p) => p.metadata && !p.metadata.video_id && (p.metadata.folder_id || '') === folderId,
        );
        if (match) {
          upload.resumeFromPreviousUpload(match);
          removePending(match.urlStorageKey);
          ui.detail.textContent = 'Checking what was already sent…';
        }
        upload.start();
      })
      .catch(() => upload.start());
  }

  function addFiles(files) {
    for (const f of files) startUpload(f);
  }

  input.addEventListener('change', () => {
    addFiles(Array.from(input.files || []));
    input.value = '';
  });

  // Drops anywhere on the page upload into this folder.
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    depth++;
    zone.classList.add('dragover');
  });
  window.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove('dragover');
  });
  window.addEventListener('dragover', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });
  window.addEventListener('drop', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    zone.classList.remove('dragover');
    addFiles(Array.from(e.dataTransfer.files || []));
  });
  zone.addEventListener('click', () => input.click());

  // ---------- interrupted uploads from before a reload ----------

  const pendingRows = new Map();

  function removePending(key) {
    const li = pendingRows.get(key);
    if (li) li.remove();
    pendingRows.delete(key);
  }

  async function showPending() {
    let all = [];
    try {
      all = await window.tus.defaultOptions.urlStorage.findAllUploads();
    } catch (e) {
      return;
    }
    for (const p of all) {
      const meta = p.metadata || {};
      if (meta.video_id || (meta.folder_id || '') !== folderId || !meta.filename) continue;
      const li = document.createElement('li');
      li.className = 'upload-row paused';
      const label = document.createElement('span');
      label.className = 'upload-name';
      label.textContent = meta.filename;
      const actions = document.createElement('div');
      actions.className = 'form-actions';
      const discard = document.createElement('button');
      discard.type = 'button';
      discard.className = 'btn';
      discard.textContent = 'Discard';
      discard.setAttribute('aria-label', `Discard the interrupted upload of ${meta.filename}`);
      discard.addEventListener('click', async () => {
        removePending(p.urlStorageKey);
        try {
          await window.tus.defaultOptions.urlStorage.removeUpload(p.urlStorageKey);
          if (p.uploadUrl) await window.tus.Upload.terminate(p.uploadUrl, { headers: { 'X-CSRF-Token': sv.csrf() } });
        } catch (e) {
          /* it expires on its own */
        }
      });
      actions.appendChild(discard);
      const detail = document.createElement('p');
      detail.className = 'upload-detail muted small';
      detail.textContent = `Interrupted (${sv.formatSize(p.size)}). Choose the same file again to resume where it stopped.`;
      li.append(label, actions, detail);
      list.appendChild(li);
      pendingRows.set(p.urlStorageKey, li);
    }
  }

  showPending();
})();
