// Pixie's page: plain JS, no build step, nothing fetched from anywhere but this appliance.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "pixie.token";
const PREVIEW_MS = 250; // a few frames a second; an unchanged panel answers 304 with no body
const BATCH_MS = 100; // a job's states come in a burst: the page reads once for all of them
const REOPEN_MS = 5000; // after the event stream failed for good (EventSource gives up on a non-200)
const LED = 10; // canvas pixels per panel pixel

const state = {
  info: null,
  jobs: [],
  apps: null, // the rotation as GET /api/v1/apps last answered
  appsKey: null, // ... and the apps it listed, to know when the rows need building again
  chosen: null, // the file picked or dropped, for a job or an app
  etag: null,
  frames: 0,
  previewTimer: null,
  refreshes: new Set(), // what the events since the last read said changed
  refreshTimer: null,
  transitionSaves: 0, // the default transition's saves so far: an answer older than the latest is not shown
};

// ---- talking to the API ------------------------------------------------------------------------

function token() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

function authorization() {
  return token() ? { Authorization: `Bearer ${token()}` } : {};
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(method, path, body) {
  const sent = token();
  const headers = authorization();
  let payload = body;
  if (body && !(body instanceof FormData)) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, { method, headers, body: payload, cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, "the appliance does not answer");
  }
  const data = (resp.headers.get("Content-Type") || "").startsWith("application/json") ? await resp.json() : null;
  if (resp.status === 401 && token() === sent) {
    // (a token saved while this call was on its way is not the one refused)
    localStorage.removeItem(TOKEN_KEY);
    askToken(sent ? "That token was refused." : "This Pixie needs its API token to change anything.");
  }
  if (!resp.ok && resp.status !== 503) {
    throw new ApiError(resp.status, (data && data.error) || `${resp.status} ${resp.statusText}`);
  }
  return { status: resp.status, data };
}

function toast(message, kind = "ok") {
  const el = $("toast");
  el.textContent = message;
  el.className = `show ${kind}`;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.className = ""), 4000);
}

async function act(what, fn) {
  try {
    const result = await fn();
    refreshStatus();
    return result;
  } catch (e) {
    toast(`${what}: ${e.message}`, "error");
    return null;
  }
}

// ---- token -------------------------------------------------------------------------------------

function askToken(why) {
  $("token-why").textContent = `${why} It is kept in this browser.`;
  if ($("token-dialog").open) return; // asked already (the page's reads are refused one after another)
  $("token").value = "";
  $("token-dialog").showModal();
}

function setupToken() {
  $("token-form").addEventListener("submit", (event) => {
    if (event.submitter && event.submitter.value === "save") {
      localStorage.setItem(TOKEN_KEY, $("token").value.trim());
      toast("Token saved in this browser.");
      showWho();
    }
  });
  $("token-button").addEventListener("click", () => askToken("The API token for this Pixie."));
  if (state.info && state.info.token_required) {
    $("token-button").hidden = false;
    if (!token()) askToken("This Pixie needs its API token to change anything.");
    showWho();
  }
}

// What the saved token may do (GET /api/v1/whoami), on the token button.
const MAY = {
  none: "may do nothing here: reads need a token too",
  read: "may look (status, queue, screen, events)",
  push: "may look and send jobs and apps",
  admin: "may do everything (settings, uploads, reboot)",
};

async function showWho() {
  try {
    const who = (await api("GET", "/api/v1/whoami")).data;
    $("token-button").textContent = who.name ? `token: ${who.name} (${who.scope})` : "token";
    $("token-button").title = `${who.name ? `This token, ${who.name},` : "Without a token, this page"} ${MAY[who.scope]}.`;
  } catch (e) {
    // the button keeps its plain word
  }
}

// ---- live preview ------------------------------------------------------------------------------

async function refreshPreview() {
  if (!document.hidden) {
    try {
      const headers = { ...authorization(), ...(state.etag ? { "If-None-Match": state.etag } : {}) };
      const resp = await fetch("/api/v1/screen.png?scale=1", { headers, cache: "no-store" });
      if (resp.status === 200) {
        state.etag = resp.headers.get("ETag");
        draw(await createImageBitmap(await resp.blob()));
      }
    } catch (e) {
      // the next poll tries again; health shows why
    }
  }
  state.previewTimer = setTimeout(refreshPreview, PREVIEW_MS);
}

const scratch = document.createElement("canvas");

function draw(bitmap) {
  const { width, height } = bitmap;
  scratch.width = width;
  scratch.height = height;
  const sctx = scratch.getContext("2d", { willReadFrequently: true });
  sctx.drawImage(bitmap, 0, 0);
  const pixels = sctx.getImageData(0, 0, width, height).data;
  const canvas = $("preview");
  if (canvas.width !== width * LED || canvas.height !== height * LED) {
    canvas.width = width * LED;
    canvas.height = height * LED;
  }
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#050505";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  // One round LED per panel pixel, like the matrix; its centre is exactly the panel's colour.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      ctx.fillStyle = `rgb(${pixels[i]},${pixels[i + 1]},${pixels[i + 2]})`;
      ctx.beginPath();
      ctx.arc(x * LED + LED / 2, y * LED + LED / 2, LED * 0.42, 0, 2 * Math.PI);
      ctx.fill();
    }
  }
  state.frames += 1;
  canvas.dataset.frames = String(state.frames);
}

// ---- status: health, queues, workers, jobs -----------------------------------------------------

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function ago(seconds) {
  if (!seconds) return "";
  const s = Math.max(0, Date.now() / 1000 - seconds);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

async function refreshStatus() {
  if (document.hidden) return;
  const [health, queue, jobs] = await Promise.allSettled([
    api("GET", "/healthz"),
    api("GET", "/api/v1/queue"),
    api("GET", "/api/v1/jobs?limit=30"),
  ]);
  showHealth(health.status === "fulfilled" ? health.value.data : null);
  if (jobs.status === "fulfilled") showJobs(jobs.value.data.jobs);
  if (queue.status === "fulfilled") showQueue(queue.value.data);
}

function showHealth(health) {
  const badge = $("health");
  if (!health) {
    badge.textContent = "unreachable";
    badge.className = "badge bad";
    $("health-detail").textContent = "The appliance does not answer.";
    return;
  }
  badge.textContent = health.ok ? "healthy" : "unhealthy";
  badge.className = `badge ${health.ok ? "good" : "bad"}`;
  const age = health.display_heartbeat_age_s;
  $("health-detail").textContent =
    `Redis ${health.redis ? "up" : "down"} · ${health.workers ?? 0} render worker(s) · display ` +
    (age === null || age === undefined ? "silent" : `heartbeat ${age.toFixed(1)} s ago`);
}

function showQueue(view) {
  const body = $("queues").tBodies[0];
  body.replaceChildren(
    ...Object.entries(view.queues).map(([name, q]) => {
      const tr = el("tr", null, { "data-queue": name });
      for (const v of [name, q.queued, q.started, q.failed]) tr.append(el("td", v));
      return tr;
    }),
  );
  const workers = $("workers");
  workers.replaceChildren(
    ...view.workers.map((w) =>
      el("li", `${w.name}: ${w.state}${w.job ? ` (job ${w.job.slice(0, 8)})` : ""}`, { "data-state": w.state }),
    ),
  );
  if (!view.workers.length) workers.append(el("li", "no render worker is running", { class: "bad" }));
  const now = view.now_playing;
  const playing = now && state.jobs.find((j) => j.id === now.id);
  $("now-playing").textContent = now
    ? `Playing: ${playing ? describe(playing) : "job"} ${now.id.slice(0, 8)} (${now.priority})`
    : view.app
      ? `Playing: app ${view.app}`
      : "Nothing playing.";
  $("now-playing").dataset.job = now ? now.id : "";
}

function describe(job) {
  return [job.kind || "job", job.name ? `“${job.name}”` : ""].filter(Boolean).join(" ");
}

const ACTIONS = {
  scheduled: ["Cancel", "DELETE", ""],
  queued: ["Cancel", "DELETE", ""],
  rendering: ["Cancel", "DELETE", ""],
  ready: ["Cancel", "DELETE", ""],
  playing: ["Dismiss", "DELETE", ""],
  failed: ["Requeue", "POST", "/requeue"],
};

function showJobs(jobs) {
  state.jobs = jobs;
  $("jobs-empty").textContent = "No jobs yet."; // it said "Loading jobs…" until this first list
  $("jobs-empty").hidden = jobs.length > 0;
  $("jobs").tBodies[0].replaceChildren(
    ...jobs.map((job) => {
      const tr = el("tr", null, { "data-job": job.id, "data-state": job.state });
      tr.append(el("td", job.id.slice(0, 8), { title: job.id, class: "mono" }));
      tr.append(el("td", describe(job)));
      tr.append(el("td", job.priority || ""));
      const st = el("td", null);
      st.append(el("span", job.state, { class: `state ${job.state}` }));
      if (job.reason) st.append(el("div", job.reason, { class: "reason" }));
      tr.append(st);
      tr.append(el("td", ago(job.created)));
      const cell = el("td");
      const action = ACTIONS[job.state];
      if (action) {
        const [label, method, suffix] = action;
        const button = el("button", label, { type: "button", class: "small", "data-action": label.toLowerCase() });
        button.addEventListener("click", () =>
          act(`${label} ${job.id.slice(0, 8)}`, async () => {
            button.disabled = true;
            await api(method, `/api/v1/jobs/${job.id}${suffix}`);
            toast(`${label}: ${job.id.slice(0, 8)}`);
          }),
        );
        cell.append(button);
      }
      tr.append(cell);
      return tr;
    }),
  );
}

// ---- sending -----------------------------------------------------------------------------------

function options() {
  const out = { priority: $("priority").value };
  const duration = parseFloat($("duration").value);
  if (duration > 0) out.duration_s = duration;
  return out;
}

function queued(result) {
  if (result) toast(`Queued ${result.data.id.slice(0, 8)}`);
}

// The text form's content: what a text job shows, and a text app.
function textContent() {
  return {
    kind: "text",
    text: $("text").value,
    color: $("color").value,
    background: $("background").value,
    speed: parseFloat($("speed").value) || 32,
    font: $("font").value,
    ...($("icon").value ? { icon: $("icon").value } : {}),
  };
}

// The progress form's bar, with its text above it when there is one.
function progressContent() {
  const text = $("progress-text").value;
  return {
    kind: "progress",
    progress: Number($("progress").value),
    progress_color: $("progress-color").value,
    progress_bg: $("progress-bg").value,
    ...(text ? { text } : {}),
  };
}

// The chart form's numbers, "1 5 3 8" or "1,5,3,8": a word that is no finite number goes as it is
// typed, for the appliance to refuse with its reason (it knows the limits).
function chartContent() {
  const values = $("chart-values")
    .value.split(/[\s,]+/)
    .filter(Boolean)
    .map((word) => (Number.isFinite(Number(word)) ? Number(word) : word));
  return { kind: "chart", values, style: $("chart-style").value, color: $("chart-color").value };
}

// A form whose job is its content with the options below it; a refusal's reason shows in the toast.
function jobForm(form, what, content) {
  $(form).addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { ...content(), ...options() };
    queued(await act(what, () => api("POST", "/api/v1/jobs", body)));
  });
}

function setupSend() {
  jobForm("text-form", "Send text", textContent);
  jobForm("progress-form", "Send progress", progressContent);
  jobForm("chart-form", "Send chart", chartContent);

  const choose = (file) => {
    if (!file) return;
    state.chosen = file;
    $("drop-label").textContent = `${file.name} (${Math.ceil(file.size / 1024)} KiB)`;
    const thumb = $("thumb");
    if (thumb.src) URL.revokeObjectURL(thumb.src);
    thumb.src = URL.createObjectURL(file);
    thumb.hidden = false;
    $("send-file").disabled = false;
    $("app-add-file").disabled = false;
  };
  $("file").addEventListener("change", () => choose($("file").files[0]));
  const drop = $("drop");
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) drop.addEventListener(name, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    choose(event.dataTransfer.files[0]);
  });
  $("file-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = state.chosen;
    if (!chosen) return;
    const form = new FormData();
    form.append("file", chosen, chosen.name);
    form.append("fit", $("fit").value);
    for (const [k, v] of Object.entries(options())) form.append(k, String(v));
    queued(await act(`Send ${chosen.name}`, () => api("POST", "/api/v1/jobs", form)));
  });

  const slider = $("brightness");
  slider.addEventListener("input", () => ($("brightness-value").textContent = `${slider.value} %`));
  slider.addEventListener("change", () =>
    act("Brightness", async () => {
      const { data } = await api("PUT", "/api/v1/brightness", { brightness: parseInt(slider.value, 10) });
      toast(`Brightness ${data.brightness} %`);
    }),
  );
}

async function loadBrightness() {
  try {
    const { data } = await api("GET", "/api/v1/brightness");
    $("brightness").value = data.brightness;
    $("brightness-value").textContent = `${data.brightness} %`;
  } catch (e) {
    $("brightness-value").textContent = "?";
  }
}

// ---- the rotation ------------------------------------------------------------------------------

// An app's body for PUT, from its listing (a file stays on the appliance when left out).
// No position unless it is the change: the app keeps its place, even when the row's copy is older than
// a move made meanwhile (a drag whose rows are still being built again, another page, the API).
function appBody(app, changes = {}) {
  const { content, dwell_s, enabled, schedule, lifetime_s } = app;
  return { content, dwell_s, enabled, schedule, lifetime_s, ...changes };
}

// An app's windows as one line to edit: "07:00-09:00 mon,tue; 18:00-20:00" (no days: every day).
function scheduleText(windows) {
  return windows.map((w) => `${w.start}-${w.end}${w.days.length === 7 ? "" : ` ${w.days.join(",")}`}`).join("; ");
}

// A start or end, loosely: where START-END splits when START has an offset (sunset-30m-sunrise).
const WINDOW_TIME = /^([0-9:]+|sun(rise|set)([+-][0-9hms]+)?)$/;

function splitSpan(span) {
  const splits = [...span.matchAll(/-/g)].map((m) => [span.slice(0, m.index), span.slice(m.index + 1)]);
  return splits.find((pair) => pair.every((t) => WINDOW_TIME.test(t))) || splits[0] || [span];
}

// The line back to windows; the appliance checks the times and days.
function parseSchedule(text) {
  return text
    .split(";")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [span, days] = part.split(/\s+/, 2);
      const [start, end] = splitSpan(span);
      if (!end) throw new Error(`${part}: not START-END, e.g. 07:00-09:30 or sunrise-sunset`);
      return { start, end, ...(days ? { days: days.split(",") } : {}) };
    });
}

async function putApp(name, body) {
  await api("PUT", `/api/v1/apps/${encodeURIComponent(name)}`, body);
  await loadApps();
}

function appRow(app, rotation) {
  const tr = el("tr", null, { "data-app": app.name, draggable: "true" });
  tr.append(el("td", null, { class: "mark" }));
  tr.append(el("td", app.name, { class: "mono" }));
  const kind = el("td", app.rendered ? app.content.kind : `${app.content.kind} (rendering)`);
  kind.append(el("div", null, { class: "live mono" }));
  tr.append(kind);
  const dwell = el("input", null, { type: "number", class: "app-dwell", min: 0.1, max: 3600, step: 0.1 });
  dwell.placeholder = "auto";
  dwell.value = app.dwell_s ?? "";
  dwell.addEventListener("change", () =>
    act(`Dwell of ${app.name}`, () => putApp(app.name, appBody(app, { dwell_s: parseFloat(dwell.value) || null }))),
  );
  const dwellCell = el("td");
  dwellCell.append(dwell);
  tr.append(dwellCell);
  const hours = el("input", null, { type: "text", class: "app-schedule", placeholder: "always" });
  hours.value = scheduleText(app.schedule);
  hours.addEventListener("change", () =>
    act(`Hours of ${app.name}`, () => putApp(app.name, appBody(app, { schedule: parseSchedule(hours.value) }))),
  );
  const hoursCell = el("td", null, { class: app.on_schedule ? "" : "closed" });
  hoursCell.append(hours);
  if (!app.on_schedule) hoursCell.append(el("span", " closed now", { class: "muted" }));
  tr.append(hoursCell);
  const enabled = el("input", null, { type: "checkbox", class: "app-enabled" });
  enabled.checked = app.enabled;
  enabled.addEventListener("change", () =>
    act(`${app.name}`, () => putApp(app.name, appBody(app, { enabled: enabled.checked }))),
  );
  const enabledCell = el("td");
  enabledCell.append(enabled);
  tr.append(enabledCell);
  const buttons = el("td");
  const button = (label, cls, fn) => {
    const b = el("button", label, { type: "button", class: `small ${cls}` });
    b.addEventListener("click", () => act(`${label} ${app.name}`, fn));
    buttons.append(b);
  };
  const path = `/api/v1/apps/${encodeURIComponent(app.name)}`;
  const pinned = app.name === rotation.pinned;
  button(pinned ? "Unpin" : "Pin", "app-pin", async () => {
    showApps((await api(pinned ? "DELETE" : "POST", `${path}/pin`)).data);
  });
  button("Delete", "app-delete", async () => {
    await api("DELETE", path);
    await loadApps();
  });
  tr.append(buttons);
  // Drag a row onto another: it takes that one's place, the rest move down.
  tr.addEventListener("dragstart", (event) => event.dataTransfer.setData("text/plain", app.name));
  tr.addEventListener("dragover", (event) => event.preventDefault());
  tr.addEventListener("drop", (event) => {
    event.preventDefault();
    const dragged = state.apps.apps.find((a) => a.name === event.dataTransfer.getData("text/plain"));
    if (dragged && dragged.name !== app.name) {
      act(`Move ${dragged.name}`, () => putApp(dragged.name, appBody(dragged, { position: app.position })));
    }
  });
  return tr;
}

function showApps(rotation) {
  // The rows are built again only when the apps changed: not under a drag or an edit, each poll; nor
  // when only their live values did (those are written into their rows below).
  const apps = rotation.apps.map((app) => ({ ...app, live: app.live.map((p) => p.placeholder) }));
  const key = JSON.stringify([apps, rotation.pinned]);
  const body = $("apps").tBodies[0];
  // Nor while one of its fields is being typed in (an app that finishes rendering would wipe the edit):
  // leaving the field reads them again.
  const field = document.activeElement;
  const editing = body.contains(field) && field.matches("input[type=text], input[type=number]");
  if (key !== state.appsKey && !editing) {
    state.appsKey = key;
    body.replaceChildren(...rotation.apps.map((app) => appRow(app, rotation)));
  }
  state.apps = rotation;
  $("apps-empty").hidden = rotation.apps.length > 0;
  for (const tr of body.rows) {
    const name = tr.dataset.app;
    const app = rotation.apps.find((a) => a.name === name);
    if (!app) continue; // deleted while a field of the table is being edited
    tr.classList.toggle("showing", name === rotation.showing);
    tr.cells[0].textContent = name === rotation.pinned ? "📌" : name === rotation.showing ? "▶" : "";
    // Its text's placeholders, each with what it shows now (or why the device gets no value of it).
    tr.querySelector(".live").replaceChildren(
      ...app.live.map((p) =>
        el("div", `${p.placeholder} = ${p.shows}${p.error ? ` ⚠ ${p.error}` : ""}`, { class: p.error ? "error" : "" }),
      ),
    );
  }
  const parts = [rotation.showing ? `Showing ${rotation.showing}` : "Nothing from the rotation on screen"];
  if (rotation.next) parts.push(`next ${rotation.next}`);
  if (rotation.pinned) parts.push(`${rotation.pinned} is pinned`);
  $("apps-now").textContent = parts.join(" · ");
}

async function loadApps() {
  try {
    showApps((await api("GET", "/api/v1/apps")).data);
  } catch (e) {
    $("apps-now").textContent = "?";
  }
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result.split(",", 2)[1]); // a data: URL's base64
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function setupApps() {
  // A row's field left: what changed while it was being edited is shown now (showApps waited).
  $("apps").tBodies[0].addEventListener("focusout", () => refreshSoon([loadApps]));
  const add = (what, content) =>
    act(what, async () => {
      const name = $("app-name").value.trim();
      if (!name) throw new Error("give the app a name");
      const dwell = parseFloat($("app-dwell").value);
      const schedule = parseSchedule($("app-schedule").value);
      await putApp(name, { content: await content(), schedule, ...(dwell > 0 ? { dwell_s: dwell } : {}) });
      toast(`App ${name} saved`);
    });
  $("app-add-text").addEventListener("click", () => add("Add text app", async () => textContent()));
  $("app-add-clock").addEventListener("click", () =>
    add("Add clock app", async () => ({ kind: "clock", color: $("color").value })),
  );
  $("app-add-countdown").addEventListener("click", () =>
    add("Add countdown app", async () => ({
      kind: "countdown",
      to: $("app-countdown-to").value,
      color: $("color").value,
    })),
  );
  $("app-add-file").addEventListener("click", () =>
    add("Add file app", async () => {
      const file = state.chosen;
      const kind = /\.(gif|webp)$/i.test(file.name) ? "animation" : "image";
      return { kind, fit: $("fit").value, data_b64: await readFile(file) };
    }),
  );
}

// The default transition: into every job, and into every app without its own.
function showTransition(setting) {
  picker($("transition"), setting.names.map((name) => [name, name]), setting.transition);
  $("transition").value = setting.transition;
  if (document.activeElement !== $("transition-ms")) $("transition-ms").value = setting.transition_ms;
}

// A read started before a save would put back the value just chosen, and the next save would send it
// along with the other field: only an answer no save has overtaken is shown.
async function loadTransition() {
  const saves = state.transitionSaves;
  try {
    const { data } = await api("GET", "/api/v1/transition");
    if (saves === state.transitionSaves) showTransition(data);
  } catch (e) {
    // the health badge says when the appliance does not answer
  }
}

function setupTransition() {
  const save = () =>
    act("Transition", async () => {
      const saves = ++state.transitionSaves;
      const body = { transition: $("transition").value, transition_ms: Number($("transition-ms").value) };
      const { data } = await api("PUT", "/api/v1/transition", body);
      if (saves === state.transitionSaves) showTransition(data);
      toast(`Transition: ${data.transition}, ${data.transition_ms} ms`);
    });
  $("transition").addEventListener("change", save);
  $("transition-ms").addEventListener("change", save);
}

// ---- night mode --------------------------------------------------------------------------------

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

// One window's row: from, to, brightness, fade and the days it starts on.
function nightRow(w = { start: "22:00", end: "07:00", brightness: 0, days: DAYS, fade_min: 0 }) {
  const row = el("fieldset", null, { class: "row night-window" });
  const field = (label, input) => {
    const wrap = el("label", label);
    wrap.append(input);
    return wrap;
  };
  row.append(
    // a time of day, or sunrise/sunset with an offset (sunset-30m): text, not type=time
    field("From", el("input", null, { class: "night-start", value: w.start, required: "", placeholder: "sunset-30m" })),
    field("to", el("input", null, { class: "night-end", value: w.end, required: "", placeholder: "07:00" })),
    field("brightness %", el("input", null, { type: "number", class: "night-brightness", min: 0, max: 100 })),
    field("fade min", el("input", null, { type: "number", class: "night-fade", min: 0, max: 180 })),
  );
  row.querySelector(".night-brightness").value = w.brightness;
  row.querySelector(".night-fade").value = w.fade_min;
  for (const day of DAYS) {
    const box = el("input", null, { type: "checkbox", class: "night-day", value: day });
    box.checked = w.days.includes(day);
    row.append(field(day, box));
  }
  const remove = el("button", "Remove", { type: "button", class: "small night-remove" });
  remove.addEventListener("click", () => row.remove());
  row.append(remove);
  return row;
}

function showNight(data) {
  $("night-windows").replaceChildren(...data.windows.map((w) => nightRow(w)));
  const open = data.window_open ? "a window is open" : "no window open";
  const next = data.next_change ? `; next change ${new Date(data.next_change).toLocaleString()}` : "";
  $("night-now").textContent = `Now ${data.brightness} %, ${open}${next} (${data.timezone} time)`;
  $("brightness").value = data.brightness;
  $("brightness-value").textContent = `${data.brightness} %`;
}

function setupNight() {
  $("night-add").addEventListener("click", () => $("night-windows").append(nightRow()));
  $("night-save").addEventListener("click", () =>
    act("Night mode", async () => {
      const windows = [...document.querySelectorAll(".night-window")].map((row) => ({
        start: row.querySelector(".night-start").value,
        end: row.querySelector(".night-end").value,
        brightness: parseInt(row.querySelector(".night-brightness").value, 10),
        fade_min: parseInt(row.querySelector(".night-fade").value || "0", 10),
        days: [...row.querySelectorAll(".night-day:checked")].map((box) => box.value),
      }));
      const { data } = await api("PUT", "/api/v1/schedule", { windows });
      showNight(data);
      toast(windows.length ? `Night mode: ${windows.length} window(s)` : "Night mode off");
    }),
  );
}

async function loadNight() {
  try {
    showNight((await api("GET", "/api/v1/schedule")).data);
  } catch (e) {
    $("night-now").textContent = "?";
  }
}

// ---- the library: fonts and icons --------------------------------------------------------------

// An icon's name may hold one folder ("8x8/8544"): each part escaped, the slash kept.
const iconPath = (name) => `/api/v1/icons/${name.split("/").map(encodeURIComponent).join("/")}`;

// A <select>'s options, keeping what was chosen if it is still there.
function picker(select, options, fallback) {
  const chosen = select.value;
  select.replaceChildren(...options.map(([value, label]) => el("option", label, { value })));
  select.value = options.some(([value]) => value === chosen) ? chosen : fallback;
}

function showIcons(icons) {
  picker($("icon"), [["", "none"], ...icons.map((i) => [i.name, i.name])], "");
  $("icons").replaceChildren(
    ...icons.map((icon) => {
      const remove = el("button", "Delete", { type: "button", class: "small icon-delete" });
      remove.addEventListener("click", () =>
        act(`Delete ${icon.name}`, async () => {
          await api("DELETE", iconPath(icon.name));
          await loadLibrary();
        }),
      );
      // The file's hash in the address: a replaced icon is fetched again.
      const img = el("img", null, { src: `${icon.url}&v=${icon.sha256.slice(0, 12)}`, alt: icon.name });
      const title = `${icon.width}×${icon.height}, ${icon.frames} frame(s)`;
      const li = el("li", null, { "data-icon": icon.name, title });
      li.append(img, el("span", icon.name, { class: "mono" }), remove);
      return li;
    }),
  );
  $("icons-empty").hidden = icons.length > 0;
}

async function loadLibrary() {
  try {
    const [fonts, icons] = await Promise.all([api("GET", "/api/v1/fonts"), api("GET", "/api/v1/icons")]);
    const label = (f) => (f.height ? `${f.name} (${f.height} px)` : f.name);
    picker($("font"), fonts.data.fonts.map((f) => [f.name, label(f)]), "auto");
    showIcons(icons.data.icons);
  } catch (e) {
    // the health badge says when the appliance does not answer
  }
}

function setupLibrary() {
  $("icon-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("icon-name").value.trim();
    const form = new FormData();
    form.append("file", $("icon-file").files[0]);
    act(`Upload ${name}`, async () => {
      await api("PUT", iconPath(name), form);
      toast(`Icon ${name} uploaded`);
      $("icon-form").reset();
      await loadLibrary();
    });
  });
}

// ---- live events -------------------------------------------------------------------------------

// What each kind of the appliance's events changes on the page (missed: anything may have).
const EVERYTHING = [refreshStatus, loadApps, loadBrightness, loadTransition];
const AFFECTS = {
  job: [refreshStatus],
  showing: [refreshStatus, loadApps],
  apps: [loadApps],
  panel: [loadBrightness, loadTransition],
  health: [refreshStatus],
  missed: EVERYTHING,
};

function refreshSoon(parts) {
  for (const part of parts) state.refreshes.add(part);
  state.refreshTimer ??= setTimeout(() => {
    state.refreshTimer = null;
    if (document.hidden) return; // coming back reads it all
    const due = [...state.refreshes];
    state.refreshes.clear();
    for (const part of due) part();
  }, BATCH_MS);
}

// The page reads again only what an event says changed; on (re)opening and on an error, everything.
function follow() {
  // EventSource sends no headers: the token goes as ?access_token= (the event stream's alone takes it).
  const query = token() ? `?access_token=${encodeURIComponent(token())}` : "";
  const source = new EventSource(`/api/v1/events${query}`);
  for (const [kind, parts] of Object.entries(AFFECTS)) source.addEventListener(kind, () => refreshSoon(parts));
  source.addEventListener("open", () => refreshSoon(EVERYTHING));
  source.addEventListener("error", () => {
    refreshSoon(EVERYTHING); // unreachable shows as such; otherwise it reconnects from its last event
    if (source.readyState === EventSource.CLOSED) setTimeout(follow, REOPEN_MS);
  });
}

// ---- start -------------------------------------------------------------------------------------

async function start() {
  try {
    state.info = (await api("GET", "/api/v1/info")).data;
    const { width, height } = state.info.panel;
    $("preview").width = width * LED;
    $("preview").height = height * LED;
    document.title = `Pixie ${width}×${height}`;
    // The appliance's own words for its priorities, most urgent first; "default" preselected.
    $("priority").replaceChildren(
      ...state.info.priorities.map((p) => {
        const option = el("option", p, { value: p });
        option.selected = p === "default";
        return option;
      }),
    );
  } catch (e) {
    toast("The appliance does not answer.", "error");
  }
  setupToken();
  setupSend();
  setupApps();
  setupTransition();
  setupNight();
  setupLibrary();
  await loadLibrary();
  await loadBrightness();
  await loadApps();
  await loadTransition();
  await loadNight();
  refreshPreview();
  follow(); // its opening reads the status
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refreshSoon(EVERYTHING);
  });
  document.body.dataset.ready = "1";
}

start();
