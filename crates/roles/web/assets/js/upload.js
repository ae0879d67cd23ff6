// streamvault: the video upload page. Creates the video through the JSON API, then sends its
// bytes with tus-js-client (resumable: pause/resume, and resume after a reload when the same file
// is chosen again), then opens the watch page.
'use strict';

(function () {
  const form = document.getElementById('upload-form');
  if (!form || !window.sv) return;
  const sv = window.sv;

  const user = form.dataset.user;
  const input = document.getElementById('video-file');
  const zone = document.getElementById('dropzone');
  const fileName = document.getElementById('file-name');
  const title = document.getElementById('title');
  const description = document.getElementById('description');
  const errorBox = document.getElementById('upload-error');
  const submit = document.getElementById('upload-button');
  const status = document.getElementById('upload-status');
  const bar = document.getElementById('upload-progress');
  const pct = document.getElementById('upload-pct');
  const detail = document.getElementById('upload-detail');
  const pauseButton = document.getElementById('pause-button');
  const resumeButton = document.getElementById('resume-button');

  const CHUNK = 4 * 1024 * 1024;
  const ENDPOINT = new URL('/stream/v1/tus/', location.href).href;
  const RETRY = [0, 1000, 3000, 5000, 10000, 20000];

  let file = null;
  let upload = null;
  let videoId = null;
  let busy = false;
  let speed = { at: 0, bytes: 0, rate: 0 };

  // The video a file was being uploaded into, so that a reload + the same file resumes it.
  function fileKey(f) {
    return `sv:video-upload:${user}:${f.name}:${f.size}:${f.lastModified}`;
  }
  function remembered(f) {
    try {
      const raw = localStorage.getItem(fileKey(f));
      return raw ? JSON.parse(raw) : null;
    } catch (e) {
      return null;
    }
  }
  function remember(f, id) {
    try {
      localStorage.setItem(fileKey(f), JSON.stringify({ id, title: title.value, at: Date.now() }));
    } catch (e) {
      /* private mode: resuming after a reload just will not work */
    }
  }
  function forget(f) {
    try {
      localStorage.removeItem(fileKey(f));
    } catch (e) {
      /* ignore */
    }
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function setFile(f) {
    if (!f) return;
    if (busy) {
      sv.toast('An upload is running; pause it and reload the page to choose another file.', 'error');
      return;
    }
    file = f;
    showError('');
    fileName.textContent = `${f.name} · ${sv.formatSize(f.size)}`;
    const earlier = remembered(f);
    if (earlier) {
      fileName.textContent += ' · an earlier upload of this file will be resumed';
      if (!title.value && earlier.title) title.value = earlier.title;
    }
    if (!title.value) {
      title.value = f.name.replace(/\.[^.]+$/, '').replace(/[_]+/g, ' ').trim().slice(0, 200);
    }
  }

  input.addEventListener('change', () => setFile(input.files && input.files[0]));

  zone.addEventListener('click', (e) => {
    if (e.target === input || busy) return;
    input.click();
  });
  ['dragenter', 'dragover'].forEach((type) =>
    zone.addEventListener(type, (e) => {
      e.preventDefault();
      zone.classList.add('dragover');
    }),
  );
  ['dragleave', 'dragend'].forEach((type) => zone.addEventListener(type, () => zone.classList.remove('dragover')));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragover');
    const f = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (f) setFile(f);
  });
  // A file dropped next to the zone should not navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());

  function setBusy(on) {
    busy = on;
    for (const el of [input, title, description, submit]) el.disabled = on;
  }

  function progress(sent, total) {
    const p = total > 0 ? (sent / total) * 100 : 0;
    const now = performance.now();
    if (speed.at && now - speed.at > 500) {
      const rate = ((sent - speed.bytes) * 1000) / (now - speed.at);
      speed.rate = speed.rate ? speed.rate * 0.6 + rate * 0.4 : rate;
      speed = { at: now, bytes: sent, rate: speed.rate };
    } else if (!speed.at) {
      speed = { at: now, bytes: sent, rate: 0 };
    }
    const text = `${sv.formatSize(sent)} of ${sv.formatSize(total)}`;
    sv.setProgress(bar, p, `${Math.floor(p)}% (${text})`);
    pct.textContent = `${Math.floor(p)}%`;
    detail.textContent = speed.rate > 0 ? `${text} · ${sv.formatSize(speed.rate)}/s` : text;
  }

  // The video to upload into: the one remembered for this file if it still waits for its
  // bytes, else a new one.
  async function videoFor(f) {
    const earlier = remembered(f);
    const base = `/api/v1/user/${encodeURIComponent(user)}/videos`;
    if (earlier && earlier.id) {
      try {
        const v = await sv.api('GET', `${base}/${encodeURIComponent(earlier.id)}`);
        if (v && v.status === 'created') {
          if (v.name !== title.value.trim() || v.description !== description.value) {
            await sv.api('PATCH', `${base}/${encodeURIComponent(earlier.id)}`, {
              name: title.value.trim(),
              description: description.value,
            });
          }
          return earlier.id;
        }
      } catch (e) {
        /* gone or not ours any more: make a new one */
      }
      forget(f);
    }
    const v = await sv.api('POST', base, { name: title.value.trim(), description: description.value });
    remember(f, v.id);
    return v.id;
  }

  function startTus(f, id) {
    let resumedFrom = null;
    upload = new window.tus.Upload(f, {
      endpoint: ENDPOINT,
      chunkSize: CHUNK,
      retryDelays: RETRY,
      headers: { 'X-CSRF-Token': sv.csrf() },
      metadata: { filename: f.name, filetype: f.type || 'application/octet-stream', video_id: id },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onAfterResponse(req, res) {
        if (req.getMethod() === 'HEAD' && resumedFrom === null) {
          const offset = Number(res.getHeader('Upload-Offset'));
          if (offset > 0) {
            resumedFrom = offset;
            form.dataset.resumedFrom = String(offset);
            sv.toast(`Resuming from ${sv.formatSize(offset)}`);
          }
        }
      },
      onProgress: progress,
      onSuccess() {
        forget(f);
        sv.setProgress(bar, 100, 'Upload complete');
        pct.textContent = '100%';
        status.classList.add('done');
        detail.textContent = 'Upload complete. Opening the video…';
        pauseButton.hidden = true;
        resumeButton.hidden = true;
        location.assign(`/watch/${encodeURIComponent(id)}`);
      },
      onError(err) {
        const res = err && err.originalResponse;
        let message = 'The upload failed.';
        if (res) {
          try {
            const body = JSON.parse(res.getBody() || '{}');
            if (body.error) message = `The upload failed: ${body.error}`;
          } catch (e) {
            message = `The upload failed (status ${res.getStatus()}).`;
          }
        } else if (err && err.message) {
          message = 'The upload was interrupted. Check your connection, then press Resume.';
        }
        status.classList.add('failed');
        detail.textContent = message;
        showError(message);
        pauseButton.hidden = true;
        resumeButton.hidden = false;
      },
    });
    return upload.findPreviousUploads().then((previous) => {
      const match = previous.find((p) => p.metadata && p.metadata.video_id === id);
      if (match) upload.resumeFromPreviousUpload(match);
      speed = { at: 0, bytes: 0, rate: 0 };
      upload.start();
    });
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (busy) return;
    showError('');
    if (!file) {
      showError('Choose a video file first.');
      input.focus();
      return;
    }
    if (!title.value.trim()) {
      showError('Give the video a title.');
      title.focus();
      return;
    }
    setBusy(true);
    status.hidden = false;
    status.classList.remove('failed', 'done', 'paused');
    pauseButton.hidden = false;
    resumeButton.hidden = true;
    detail.textContent = 'Starting…';
    try {
      videoId = await videoFor(file);
      form.dataset.videoId = videoId;
      await startTus(file, videoId);
    } catch (err) {
      setBusy(false);
      status.hidden = true;
      showError(err && err.message ? err.message : 'The upload could not start.');
    }
  });

  pauseButton.addEventListener('click', () => {
    if (!upload) return;
    upload.abort();
    status.classList.add('paused');
    detail.textContent = `Paused at ${pct.textContent}. Press Resume to go on; after a reload, choose the same file again and it picks up here.`;
    pauseButton.hidden = true;
    resumeButton.hidden = false;
    resumeButton.focus();
  });

  resumeButton.addEventListener('click', () => {
    if (!upload) return;
    status.classList.remove('paused', 'failed');
    showError('');
    detail.textContent = 'Resuming…';
    resumeButton.hidden = true;
    pauseButton.hidden = false;
    pauseButton.focus();
    speed = { at: 0, bytes: 0, rate: 0 };
    upload.start();
  });
})();
