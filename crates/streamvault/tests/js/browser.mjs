// End-to-end test of the web pages in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core; no browser download). Signs up; uploads a video (throttled) with the progress
// bar, pauses it (nothing moves), resumes it, interrupts it with a reload and resumes it into the
// same video; plays and seeks it over HLS, comments, hovers the timeline for the storyboard
// preview, finds it on the home page with its thumbnail and as the only video of the channel;
// uploads a drive file that is interrupted by a reload and resumed, downloads it byte-exact;
// drops a file generated in the page onto the drive's drop zone; visits the remaining pages and
// signs in with the keyboard alone. Any page error, console error or failed check fails the run.
//
//   node browser.mjs --base http://127.0.0.1:8080 --video video.mp4 --file drive.bin --shots DIR
//
// Environment: CHROMIUM (default /usr/bin/chromium), BROWSER_TIMEOUT_MS (processing wait, default
// 120000). Prints one line per step and `BROWSER OK` at the end; exit status 1 on failure.

import { createHash, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { chromium } from 'playwright-core';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`--${key} needs a value`);
    out[key] = value;
    i++;
  }
  for (const need of ['base', 'video', 'file', 'shots']) {
    if (!out[need]) throw new Error(`--${need} is required (flags: --base URL --video MP4 --file PATH --shots DIR)`);
  }
  out.base = out.base.replace(/\/+$/, '');
  return out;
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class Check extends Error {}
function expect(cond, message) {
  if (!cond) throw new Check(message);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const processingTimeout = Number(process.env.BROWSER_TIMEOUT_MS || 120000);
  mkdirSync(opts.shots, { recursive: true });
  const url = (p) => `${opts.base}${p}`;

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless=new', '--autoplay-policy=no-user-gesture-required'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, deviceScaleFactor: 1 });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();

  // ---- every page error and console error fails the run ----
  const problems = [];
  // Console errors that a step expects (e.g. the 404 page's own status), as predicates.
  let allowed = [];
  page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location() && msg.location().url;
    if (allowed.some((ok) => ok(msg.text(), where))) return;
    problems.push(`console error on ${page.url()}: ${msg.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('crash', () => problems.push('the page crashed'));
  const clean = () => {
    if (problems.length) throw new Check(`browser reported errors:\n  ${problems.join('\n  ')}`);
  };

  let stepNo = 0;
  async function step(name, fn) {
    stepNo++;
    const t0 = Date.now();
    await fn();
    clean();
    console.log(`step ${stepNo} ok: ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const shot = (name, fullPage = true) => page.screenshot({ path: join(opts.shots, name), fullPage });

  const username = `alice${randomInt(100000, 999999)}`;
  const password = `pw-${randomInt(1e9, 9e9)}-secret`;
  const title = `Test video ${randomInt(1000, 9999)}`;
  const comment = `Nice one! ${randomInt(1000, 9999)}`;
  const folderName = `Reports ${randomInt(100, 999)}`;
  const driveName = basename(opts.file);
  let watchPath = '';

  const header = () => page.getByRole('banner');

  try {
    await step('home (empty) and sign up', async () => {
      const res = await page.goto(url('/'));
      expect(res && res.status() === 200, `GET / answered ${res && res.status()}`);
      await shot('home-empty.png');
      await page.goto(url('/signup'));
      await page.getByLabel('Username', { exact: true }).fill(username);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign up', exact: true }).click()]);
      await header().getByText(username, { exact: true }).waitFor({ state: 'visible' });
    });

    // The video upload is throttled so that it can be paused, held, resumed, interrupted by a
    // reload and resumed again (into the same video) with the same file.
    let videoId = '';
    let uploadCdp = null;
    let maxProgress = -1;
    let firstProgress = -1;
    const uploadBar = () => page.locator('#upload-progress');
    const uploadProgress = async () => Number((await uploadBar().getAttribute('aria-valuenow')) || 0);
    const watchUploadBar = () =>
      page.evaluate(() => {
        const bar = document.getElementById('upload-progress');
        new MutationObserver(() => window.__svProgress(bar.getAttribute('aria-valuenow'))).observe(bar, {
          attributes: true,
          attributeFilter: ['aria-valuenow'],
        });
      });
    // About ten seconds for the whole file while throttled.
    const videoRate = Math.max(64 * 1024, Math.floor(readFileSync(opts.video).length / 10));
    const throttleUpload = (bytesPerSecond) =>
      uploadCdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: bytesPerSecond,
      });
    // After a pause or a reload the server may still hold the upload's lock for the cut request:
    // tus-js-client retries 423 by design, and Chromium logs each one as an error.
    const tusLocked = (text, where) => /\b423\b/.test(text) && /\/stream\/v1\/tus\//.test(where || '');
    const fillUploadForm = async () => {
      await page.getByLabel('Title', { exact: true }).fill(title);
      await page.getByLabel('Description', { exact: true }).fill('Generated by the browser test.\nSecond line.');
      await page.getByLabel('Video file', { exact: true }).setInputFiles(opts.video);
    };
    const waitForUpload = async (pred, what, timeout = 30000) => {
      const t0 = Date.now();
      let p;
      while (!pred((p = await uploadProgress()))) {
        expect(Date.now() - t0 < timeout, `the video upload stayed at ${p}% waiting for ${what}`);
        await sleep(50);
      }
      return p;
    };

    await step('upload a video: progress bar, Pause holds it, Resume goes on', async () => {
      await page.goto(url('/upload'));
      await fillUploadForm();
      await shot('upload.png');
      await page.exposeFunction('__svProgress', (v) => {
        const n = Number(v);
        if (firstProgress < 0) firstProgress = n;
        maxProgress = Math.max(maxProgress, n);
      });
      await watchUploadBar();
      uploadCdp = await context.newCDPSession(page);
      await uploadCdp.send('Network.enable');
      await throttleUpload(videoRate);
      allowed = [tusLocked];
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await page.waitForFunction(() => document.getElementById('upload-form').dataset.videoId);
      videoId = await page.evaluate(() => document.getElementById('upload-form').dataset.videoId);
      await waitForUpload((p) => p >= 4, 'some progress before pausing');

      let tusRequests = 0;
      const countTus = (req) => {
        if (req.url().includes('/stream/v1/tus/')) tusRequests++;
      };
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      await page.getByRole('button', { name: 'Resume', exact: true }).waitFor({ state: 'visible' });
      const held = await uploadProgress();
      page.on('request', countTus);
      await sleep(1200);
      page.off('request', countTus);
      const still = await uploadProgress();
      expect(still === held, `the progress bar moved from ${held}% to ${still}% while paused`);
      expect(tusRequests === 0, `${tusRequests} upload requests were sent while paused`);
      const detail = (await page.locator('#upload-detail').textContent()) || '';
      expect(/Paused at \d+%/.test(detail), `the paused upload says "${detail}"`);
      expect(held < 100, `the upload finished (${held}%) before it could be paused`);
      await shot('upload-paused.png');

      await page.getByRole('button', { name: 'Resume', exact: true }).click();
      await page.getByRole('button', { name: 'Pause', exact: true }).waitFor({ state: 'visible' });
      const moved = await waitForUpload((p) => p >= held + 3, 'progress after Resume');
      console.log(`  video ${videoId}: paused at ${held}% for 1.2 s (no requests), resumed to ${moved}%`);
    });

    await step('the video upload, interrupted by a reload, resumes into the same video', async () => {
      const p = await waitForUpload((v) => v > 10, 'progress before the reload');
      expect(p < 90, `the video upload was already at ${p}% before the interruption`);
      console.log(`  interrupting at ${p}%`);
      await page.reload();
      await throttleUpload(videoRate);
      await fillUploadForm();
      const note = (await page.locator('#file-name').textContent()) || '';
      expect(/will be resumed/.test(note), `after the reload the chosen file says "${note}"`);
      await shot('upload-reloaded.png');
      firstProgress = -1;
      maxProgress = -1;
      await watchUploadBar();
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      const form = page.locator('#upload-form[data-resumed-from]');
      await form.waitFor({ state: 'attached', timeout: 30000 });
      const from = Number(await form.getAttribute('data-resumed-from'));
      const sameId = await form.getAttribute('data-video-id');
      expect(from > 0, `the video upload restarted from ${from}`);
      expect(sameId === videoId, `after the reload the upload went into video ${sameId}, not ${videoId}`);
      await page.locator('#toasts').getByText(/^Resuming from /).waitFor({ state: 'visible' });
      await shot('upload-resumed.png');
      await throttleUpload(-1);
      await page.waitForURL(/\/watch\/[^/?#]+$/, { timeout: 180000 });
      await uploadCdp.detach();
      allowed = [];
      watchPath = new URL(page.url()).pathname;
      expect(watchPath === `/watch/${videoId}`, `landed on ${watchPath}, not /watch/${videoId}`);
      const size = readFileSync(opts.video).length;
      const fromPct = Math.floor((from / size) * 100);
      expect(firstProgress >= fromPct, `after resuming the progress bar started at ${firstProgress}%, below ${fromPct}%`);
      expect(maxProgress === 100 || maxProgress === -1, `the progress bar stopped at ${maxProgress}`);
      await page.locator('#player').waitFor({ state: 'attached' });
      await shot('watch-processing.png');
      const list = await page.request.get(url(`/api/v1/user/${username}/videos`));
      expect(list.status() === 200, `GET /api/v1/user/${username}/videos answered ${list.status()}`);
      const ids = ((await list.json()).videos || []).map((v) => `${v.id} (${v.status})`);
      expect(ids.length === 1 && ids[0].startsWith(`${videoId} `), `the user has the videos ${ids.join(', ')}`);
      console.log(`  resumed from byte ${from} (${fromPct}%), bar restarted at ${firstProgress}%, video page ${watchPath}`);
    });

    await step('the video becomes ready, plays over HLS and seeks', async () => {
      await page.waitForFunction(
        () => {
          const v = document.getElementById('player');
          return v && v.dataset.engine === 'hls' && v.readyState >= 2;
        },
        null,
        { timeout: processingTimeout, polling: 250 },
      );
      const duration = await page.evaluate(async () => {
        const v = document.getElementById('player');
        v.muted = true;
        await v.play();
        return v.duration;
      });
      expect(Number.isFinite(duration) && duration > 1, `the player's duration is ${duration}`);
      const target = duration * 0.6;
      const landed = await page.evaluate(
        (t) =>
          new Promise((resolve, reject) => {
            const v = document.getElementById('player');
            const timer = setTimeout(() => reject(new Error('no seeked event within 15 s')), 15000);
            v.addEventListener(
              'seeked',
              () => {
                clearTimeout(timer);
                resolve(v.currentTime);
              },
              { once: true },
            );
            v.currentTime = t;
          }),
        target,
      );
      expect(Math.abs(landed - target) < 1, `seeked to ${landed.toFixed(2)} s, wanted ${target.toFixed(2)} s`);
      await sleep(1500);
      const after = await page.evaluate(() => {
        const v = document.getElementById('player');
        return { t: v.currentTime, paused: v.paused, ended: v.ended };
      });
      expect(!after.paused || after.ended, 'the video paused by itself after seeking');
      expect(after.t > landed + 0.3 || after.ended, `playback did not advance after seeking (${landed} → ${after.t})`);
      const options = await page.getByLabel('Quality', { exact: true }).locator('option').count();
      expect(options >= 2, `the quality menu has ${options} options`);
      await page.evaluate(() => document.getElementById('player').pause());
      await shot('watch.png');
      console.log(`  duration ${duration.toFixed(1)} s, seeked to ${landed.toFixed(2)} s, ${options} quality options`);
    });

    await step('post a comment', async () => {
      await page.getByLabel('Comment', { exact: true }).fill(comment);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Post comment', exact: true }).click()]);
      await page.locator('.comment-list').getByText(comment, { exact: true }).waitFor({ state: 'visible' });
    });

    await step('storyboard preview over the seek bar', async () => {
      // The comment reloaded the watch page, now with the ready video's storyboard.
      const sbUrl = await page.locator('#player').getAttribute('data-storyboard');
      expect(sbUrl, 'the ready video has no storyboard (no data-storyboard on the player)');
      await page.waitForFunction(() => Number.isFinite(document.getElementById('player').duration), null, {
        timeout: 20000,
      });
      const box = await page.locator('#player').boundingBox();
      const hint = page.locator('#storyboard-hint');
      const image = page.locator('#storyboard-hint .storyboard-image');
      const hover = async (fraction) => {
        await page.mouse.move(box.x + box.width * fraction, box.y + box.height - 20, { steps: 4 });
        await hint.waitFor({ state: 'visible', timeout: 5000 });
        return page.evaluate(() => {
          const img = document.querySelector('#storyboard-hint .storyboard-image');
          const s = getComputedStyle(img);
          return {
            bg: s.backgroundImage,
            pos: s.backgroundPosition,
            w: img.offsetWidth,
            h: img.offsetHeight,
            time: document.querySelector('#storyboard-hint .storyboard-time').textContent,
          };
        });
      };
      // Above the timeline there is no preview.
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 3);
      expect(!(await hint.isVisible()), 'the storyboard preview shows away from the timeline');
      const early = await hover(0.2);
      const late = await hover(0.8);
      const m = /url\("?([^")]+)"?\)/.exec(late.bg);
      expect(m && /storyboard\.jpg(\?|$)/.test(new URL(m[1]).pathname + '?'), `the preview's background is ${late.bg}`);
      expect(late.w > 20 && late.h > 10, `the preview is ${late.w}x${late.h}`);
      expect(early.time !== late.time, `the preview shows ${early.time} at 20% and at 80%`);
      expect(early.pos !== late.pos || early.bg !== late.bg, 'the preview shows the same tile at 20% and at 80%');
      const res = await page.request.get(m[1]);
      const type = res.headers()['content-type'] || '';
      expect(res.status() === 200 && type.startsWith('image/jpeg'), `GET ${m[1]} answered ${res.status()} ${type}`);
      const loaded = await page.evaluate(
        (src) =>
          new Promise((resolve) => {
            const img = new Image();
            img.onload = () => resolve(`${img.naturalWidth}x${img.naturalHeight}`);
            img.onerror = () => resolve('');
            img.src = src;
          }),
        m[1],
      );
      expect(loaded, `the storyboard image ${m[1]} does not load`);
      await shot('watch-storyboard.png', false);
      await page.mouse.move(box.x + box.width / 2, box.y - 40);
      await hint.waitFor({ state: 'hidden', timeout: 5000 });
      console.log(`  ${new URL(m[1]).pathname} (${loaded}), ${late.w}x${late.h} tiles, ${early.time} → ${late.time}`);
    });

    await step('the home page lists the video with its thumbnail', async () => {
      let card;
      const deadline = Date.now() + 60000;
      for (;;) {
        await page.goto(url('/'));
        card = page.locator('article.card', { has: page.getByRole('link', { name: title, exact: true }) });
        if ((await card.count()) > 0 && (await card.locator('img').count()) > 0) break;
        expect(Date.now() < deadline, 'the video has no card with a thumbnail on the home page');
        await sleep(2000);
      }
      await card.first().waitFor({ state: 'visible' });
      const img = card.first().locator('img').first();
      await img.scrollIntoViewIfNeeded();
      await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle(), {
        timeout: 20000,
      });
      const badge = (await card.first().locator('.duration').textContent({ timeout: 5000 })) || '';
      expect(badge.trim().length > 0, 'the card has no duration badge');
      await shot('home.png');
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(url('/'));
      await shot('home-phone.png');
      await page.goto(url(watchPath));
      await page.locator('#player').waitFor({ state: 'attached' });
      await shot('watch-phone.png');
      await page.setViewportSize({ width: 1366, height: 900 });
    });

    await step('channel page', async () => {
      const res = await page.goto(url(`/u/${username}`));
      expect(res && res.status() === 200, `GET /u/${username} answered ${res && res.status()}`);
      await page.getByRole('link', { name: title, exact: true }).first().waitFor({ state: 'visible' });
      // Exactly the one video: the interrupted upload left no second, empty one behind.
      const links = await page.locator('article.card .card-title a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      expect(
        links.length === 1 && links[0] === watchPath,
        `the channel lists ${links.length} videos (${links.join(', ')}), wanted only ${watchPath}`,
      );
      await shot('channel.png');
    });

    await step('drive: new folder, interrupted and resumed upload, byte-exact download', async () => {
      await page.goto(url('/drive'));
      await page.getByRole('button', { name: 'New folder', exact: true }).click();
      await page.getByLabel('Folder name', { exact: true }).fill(folderName);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create', exact: true }).click()]);
      const folderLink = page.getByRole('link', { name: folderName, exact: true });
      await folderLink.waitFor({ state: 'visible' });
      await Promise.all([page.waitForNavigation(), folderLink.click()]);
      expect(/\/drive\/[^/]+$/.test(new URL(page.url()).pathname), `the folder opened at ${page.url()}`);

      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      const throttle = (bytesPerSecond) =>
        cdp.send('Network.emulateNetworkConditions', {
          offline: false,
          latency: 0,
          downloadThroughput: -1,
          uploadThroughput: bytesPerSecond,
        });
      await throttle(1.5 * 1024 * 1024);

      const picker = () => page.getByLabel('Upload files', { exact: true });
      const row = () => page.locator('.upload-row', { has: page.locator('[role="progressbar"]') });
      await picker().setInputFiles(opts.file);
      const progressOf = async () => Number((await row().first().locator('[role="progressbar"]').getAttribute('aria-valuenow')) || 0);
      const t0 = Date.now();
      let p = 0;
      while ((p = await progressOf()) <= 10) {
        expect(Date.now() - t0 < 60000, `the drive upload stayed at ${p}% for a minute`);
        await sleep(100);
      }
      expect(p < 90, `the drive upload was already at ${p}% before the interruption; use a larger --file`);
      console.log(`  interrupting at ${p}%`);
      // Right after the interruption the server may still hold the upload's lock for the cut
      // request: tus-js-client retries 423 by design, and Chromium logs each one as an error.
      allowed = [(text, where) => /\b423\b/.test(text) && /\/stream\/v1\/tus\//.test(where || '')];
      await page.reload();
      await throttle(1.5 * 1024 * 1024);
      await picker().setInputFiles(opts.file);
      await page.locator('.upload-row[data-resumed-from]').waitFor({ state: 'attached', timeout: 30000 });
      const from = Number(await page.locator('.upload-row[data-resumed-from]').first().getAttribute('data-resumed-from'));
      expect(from > 0, `the upload restarted from ${from}`);
      console.log(`  resumed from byte ${from}`);
      await throttle(-1);
      const download = page.getByRole('link', { name: `Download ${driveName}`, exact: true });
      await download.waitFor({ state: 'visible', timeout: 120000 });
      await cdp.detach();
      allowed = [];
      const href = await download.getAttribute('href');
      const res = await page.request.get(new URL(href, page.url()).href);
      expect(res.status() === 200, `downloading ${href} answered ${res.status()}`);
      const got = sha256(await res.body());
      const want = sha256(readFileSync(opts.file));
      expect(got === want, `the downloaded file differs: sha256 ${got}, wanted ${want}`);
      await shot('drive.png');
    });

    await step('drive: drag and drop a file onto the drop zone', async () => {
      const dropName = `dropped-${randomInt(1000, 9999)}.txt`;
      const dropText = Array.from({ length: 200 }, (_, i) => `line ${i} of a dropped file\n`).join('');
      const zone = page.locator('#drive-drop');
      await zone.waitFor({ state: 'visible' });
      const dt = await page.evaluateHandle(
        ([name, text]) => {
          const dt = new DataTransfer();
          dt.items.add(new File([text], name, { type: 'text/plain', lastModified: Date.now() }));
          return dt;
        },
        [dropName, dropText],
      );
      const fire = (type) =>
        zone.evaluate(
          (el, [type, dt]) => el.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt })),
          [type, dt],
        );
      await fire('dragenter');
      await fire('dragover');
      expect(await zone.evaluate((el) => el.classList.contains('dragover')), 'the drop zone is not highlighted while dragging');
      await shot('drive-dragover.png', false);
      const notCancelled = await fire('drop');
      expect(!notCancelled, 'the page did not take the drop (preventDefault was not called)');
      expect(!(await zone.evaluate((el) => el.classList.contains('dragover'))), 'the drop zone is still highlighted after the drop');
      const download = page.getByRole('link', { name: `Download ${dropName}`, exact: true });
      await download.waitFor({ state: 'visible', timeout: 30000 });
      const href = await download.getAttribute('href');
      const res = await page.request.get(new URL(href, page.url()).href);
      expect(res.status() === 200, `downloading ${href} answered ${res.status()}`);
      const body = (await res.body()).toString('utf8');
      expect(body === dropText, `the dropped file came back as ${body.length} different bytes`);
      await shot('drive-dropped.png');
      console.log(`  ${dropName} (${dropText.length} bytes) uploaded and listed`);
    });

    await step('settings, 404, sign out and sign in again', async () => {
      const res = await page.goto(url('/settings'));
      expect(res && res.status() === 200, `GET /settings answered ${res && res.status()}`);
      await page.getByRole('button', { name: 'Sign out everywhere', exact: true }).waitFor({ state: 'visible' });
      await shot('settings.png');

      const missing = url('/no-such-page');
      allowed = [(text, where) => where === missing && /404/.test(text)];
      const nf = await page.goto(missing);
      expect(nf && nf.status() === 404, `GET /no-such-page answered ${nf && nf.status()}`);
      await page.getByRole('heading', { level: 1 }).waitFor({ state: 'visible' });
      await page.getByRole('link', { name: 'Go to the home page' }).waitFor({ state: 'visible' });
      await shot('404.png');
      allowed = [];

      await page.goto(url('/'));
      await Promise.all([page.waitForNavigation(), header().getByRole('button', { name: 'Sign out', exact: true }).click()]);
      expect((await header().getByText(username, { exact: true }).count()) === 0, 'still signed in after Sign out');
      await page.goto(url('/signin'));
      await shot('signin.png');
      await page.getByLabel('Username', { exact: true }).fill(username);
      await page.getByLabel('Password', { exact: true }).fill(password);
      await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
      await header().getByText(username, { exact: true }).waitFor({ state: 'visible' });
    });

    await step('keyboard only: Tab from the top of /signin, Enter signs in', async () => {
      await Promise.all([page.waitForNavigation(), header().getByRole('button', { name: 'Sign out', exact: true }).click()]);
      await page.goto(url('/signin'));
      // Start where a freshly opened page starts: before the first focusable element (the
      // username field is autofocused, so focus the body first).
      await page.evaluate(() => {
        document.body.tabIndex = -1;
        document.body.focus();
        document.body.removeAttribute('tabindex');
      });
      const focused = () =>
        page.evaluate(() => {
          const e = document.activeElement;
          return e ? { tag: e.tagName, id: e.id, type: e.type || '', text: (e.textContent || '').trim() } : null;
        });
      const trail = [];
      const tabTo = async (want, what) => {
        for (let i = 0; i < 25; i++) {
          await page.keyboard.press('Tab');
          const f = await focused();
          trail.push(f.id ? `#${f.id}` : `${f.tag.toLowerCase()} "${f.text.slice(0, 24)}"`);
          if (want(f)) return;
        }
        throw new Check(`Tab never reached ${what}; focus went ${trail.join(' → ')}`);
      };
      await page.keyboard.press('Tab');
      const first = await focused();
      expect(first && /skip to content/i.test(first.text), `the first Tab focused ${JSON.stringify(first)}, not the skip link`);
      trail.push('skip link');
      await tabTo((f) => f.id === 'username', 'the Username field');
      const toUser = trail.length;
      await page.keyboard.type(username);
      await page.keyboard.press('Tab');
      const pw = await focused();
      expect(pw.id === 'password', `Tab from Username went to ${JSON.stringify(pw)}, not Password`);
      await page.keyboard.type(password);
      await page.keyboard.press('Tab');
      const button = await focused();
      expect(
        button.tag === 'BUTTON' && button.type === 'submit' && button.text === 'Sign in',
        `Tab from Password went to ${JSON.stringify(button)}, not the Sign in button`,
      );
      await shot('signin-keyboard.png', false);
      await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
      await header().getByText(username, { exact: true }).waitFor({ state: 'visible' });
      console.log(`  ${toUser} Tabs to Username (${trail.slice(0, toUser).join(' → ')}), then Password, Sign in, Enter`);
    });

    clean();
    console.log('BROWSER OK');
  } catch (err) {
    const name = `failure-step${stepNo + 1}.png`;
    await page.screenshot({ path: join(opts.shots, name), fullPage: true }).catch(() => {});
    if (problems.length && !(err instanceof Check && err.message.startsWith('browser reported'))) {
      console.error(`browser reported errors:\n  ${problems.join('\n  ')}`);
    }
    console.error(`BROWSER FAILED at step ${stepNo + 1} (${page.url()}): ${err && err.message ? err.message : err}`);
    console.error(`screenshot: ${join(opts.shots, name)}`);
    process.exitCode = 1;
  } finally {
    await browser.close().catch(() => {});
  }
}

main().catch((err) => {
  console.error(`BROWSER FAILED: ${err && err.message ? err.message : err}`);
  process.exit(1);
});
