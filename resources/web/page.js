// XinDesk's page at the server's address: a client of the public REST API, like the window.
//
// Everything it shows comes from the API and is put in the page as text (never as HTML), so a
// model or file name cannot inject markup. The API key, when the server has one, is asked once
// and kept in the tab's session storage: not in a URL, not in local storage, not in a cookie.
"use strict";

(() => {
  const STRINGS = window.XINDESK_STRINGS;
  const KEY_STORE = "xindesk.api_key";
  const LANGUAGE_STORE = "xindesk.language";
  const POLL_MS = 2000;

  const $ = (id) => document.getElementById(id);
  let language = chooseLanguage();
  let server = null; // GET /v1/xindesk/server
  let source = "catalog"; // the launch form's tab
  let catalogRows = []; // the chosen catalog model's quantizations
  let installedFiles = [];
  let keyAsked = null; // the pending key dialog, so parallel requests share one question
  let polling = false;
  let servedSignature = null; // the served models and states the export was written for
  let lastErrorStatus = null; // the HTTP status of the error the banner shows (0: unreachable)

  // -- words ---------------------------------------------------------------------------------

  function chooseLanguage() {
    const saved = localStorage.getItem(LANGUAGE_STORE);
    if (saved && STRINGS[saved]) return saved;
    const wanted = navigator.languages && navigator.languages.length
      ? navigator.languages
      : [navigator.language || "en"];
    for (const tag of wanted) {
      const code = String(tag).toLowerCase();
      if (code.startsWith("zh")) return "zh";
      if (code.startsWith("en")) return "en";
    }
    return "en";
  }

  function t(key, ...values) {
    const text = STRINGS[language][key] ?? STRINGS.en[key] ?? key;
    return text.replace(/\{(\d)\}/g, (_, i) => String(values[Number(i)] ?? ""));
  }

  function translatePage() {
    document.documentElement.lang = language === "zh" ? "zh-CN" : "en";
    for (const element of document.querySelectorAll("[data-t]")) {
      element.textContent = t(element.dataset.t);
    }
    $("language").value = language;
  }

  // -- numbers -------------------------------------------------------------------------------

  function bytes(count) {
    if (count === null || count === undefined) return "—";
    const units = ["B", "KB", "MB", "GB", "TB"];
    let value = count;
    let unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit += 1;
    }
    return `${value.toFixed(unit === 0 || value >= 100 ? 0 : 1)} ${units[unit]}`;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined || !isFinite(seconds)) return "—";
    const s = Math.round(seconds);
    if (s < 60) return `${s} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  }

  const percent = (fraction) => `${Math.floor(Math.max(0, Math.min(1, fraction)) * 100)} %`;

  // -- the API -------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  function detailText(body, status) {
    const detail = body && body.detail !== undefined ? body.detail : body && body.error;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map((d) => d.msg || JSON.stringify(d)).join("; ");
    if (detail && typeof detail === "object" && detail.message) return detail.message;
    return `HTTP ${status}`;
  }

  async function api(method, path, body) {
    for (;;) {
      const headers = { Accept: "application/json" };
      const key = sessionStorage.getItem(KEY_STORE);
      if (key) headers.Authorization = `Bearer ${key}`;
      const init = { method, headers, cache: "no-store" };
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      let response;
      try {
        response = await fetch(path, init);
      } catch (error) {
        throw new ApiError(0, t("unreachable", location.origin));
      }
      if (response.status === 401) {
        await askKey(Boolean(key));
        continue;
      }
      const text = await response.text();
      let parsed = null;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch (error) {
        parsed = null;
      }
      if (!response.ok) throw new ApiError(response.status, detailText(parsed, response.status));
      return parsed;
    }
  }

  function askKey(wrong) {
    if (keyAsked) return keyAsked;
    sessionStorage.removeItem(KEY_STORE);
    const dialog = $("key-dialog");
    $("key-error").hidden = !wrong;
    $("key-input").value = "";
    keyAsked = new Promise((resolve) => {
      const form = $("key-form");
      const done = (event) => {
        event.preventDefault();
        const value = $("key-input").value.trim();
        if (!value) return;
        sessionStorage.setItem(KEY_STORE, value);
        form.removeEventListener("submit", done);
        dialog.close();
        keyAsked = null;
        $("forget-key").hidden = false;
        resolve();
      };
      form.addEventListener("submit", done);
      dialog.addEventListener("cancel", (event) => event.preventDefault());
      dialog.showModal();
      $("key-input").focus();
    });
    return keyAsked;
  }

  // -- the banner ----------------------------------------------------------------------------

  function showError(error) {
    lastErrorStatus = error instanceof ApiError ? error.status : null;
    const message = error instanceof ApiError && error.status
      ? t("failed", error.message, error.status)
      : error.message || String(error);
    $("banner-text").textContent = message;
    $("banner").hidden = false;
  }

  function clearError() {
    $("banner").hidden = true;
  }

  // -- small DOM helpers ---------------------------------------------------------------------

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function button(text, onClick, className) {
    const node = element("button", text, className);
    node.type = "button";
    node.addEventListener("click", async () => {
      node.disabled = true;
      try {
        await onClick();
        clearError();
      } catch (error) {
        showError(error);
      } finally {
        node.disabled = false;
      }
    });
    return node;
  }

  function option(value, text) {
    const node = element("option", text);
    node.value = value;
    return node;
  }

  async function copyText(text, source) {
    try {
      if (!navigator.clipboard || !window.isSecureContext) throw new Error("no clipboard");
      await navigator.clipboard.writeText(text);
    } catch (error) {
      // Plain http from another computer is not a secure context: copy the old way.
      const area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      const done = document.execCommand("copy");
      area.remove();
      if (!done) throw new Error(t("copy_failed"));
    }
    const before = source.textContent;
    source.textContent = t("copied");
    setTimeout(() => {
      source.textContent = before === t("copied") ? t("copy") : before;
    }, 1500);
  }

  // -- this computer -------------------------------------------------------------------------

  async function showComputer() {
    const found = await api("GET", "/v1/xindesk/hardware");
    const facts = $("computer-facts");
    facts.replaceChildren();
    const add = (label, value) => {
      facts.append(element("dt", label), element("dd", value));
    };
    add(t("system"), `${found.os} ${found.os_version} · ${found.machine}`);
    const cores = found.cpu_logical_cores ? ` · ${t("cores", found.cpu_logical_cores)}` : "";
    add(t("cpu"), `${found.cpu_name}${cores}`);
    add(t("ram"), t("ram_value", bytes(found.ram_total_bytes), bytes(found.ram_available_bytes)));
    add(t("backend"), found.backend);
    if (found.gpus.length) {
      for (const gpu of found.gpus) add(t("gpus"), t("gpu_value", gpu.name, bytes(gpu.total_bytes)));
    } else {
      add(t("gpus"), t("no_gpu"));
    }
  }

  // -- served models -------------------------------------------------------------------------

  const TYPE_WORDS = { LLM: "type_llm", embedding: "type_embedding", rerank: "type_rerank" };

  async function showModels() {
    const [listing, instances] = await Promise.all([
      api("GET", "/v1/models"),
      api("GET", "/v1/models/instances"),
    ]);
    const models = listing.data || [];
    const served = new Set(models.map((model) => model.id));
    // A launch that downloads its file first is an instance before it is a served model.
    const starting = instances.filter((instance) => !served.has(instance.model_uid));
    const rows = [];
    for (const instance of starting) rows.push(await startingRow(instance));
    for (const model of models) rows.push(await modelRow(model));
    $("models-table").querySelector("tbody").replaceChildren(...rows);
    $("models-empty").hidden = rows.length > 0;
    $("models-table").hidden = rows.length === 0;
    // The export lists the served models: write it again when they change.
    const signature = models.map((model) => `${model.id}:${model.status}`).join(",");
    if (signature !== servedSignature) {
      servedSignature = signature;
      await showExport();
    }
  }

  async function progressLine(uid) {
    try {
      const progress = await api("GET", `/v1/models/${encodeURIComponent(uid)}/progress`);
      const words = progress.stage === "downloading" ? "downloading_pct" : "loading_pct";
      return element("div", t(words, percent(progress.progress)), "sub");
    } catch (error) {
      return null; // the launch ended between the two requests: the next refresh shows how
    }
  }

  function badgeOf(status) {
    const badge = element("span", t(`state_${status}`), `badge ${status}`);
    badge.dataset.state = status;
    return badge;
  }

  async function startingRow(instance) {
    const row = element("tr");
    row.dataset.uid = instance.model_uid;
    const name = element("td");
    name.append(element("strong", instance.model_uid));
    if (instance.model_name !== instance.model_uid) name.append(element("div", instance.model_name, "sub"));
    const state = element("td");
    state.append(badgeOf("loading"));
    const line = await progressLine(instance.model_uid);
    if (line) state.append(line);
    const cell = element("td");
    const actions = element("div", null, "row-actions");
    actions.append(button(t("cancel"), async () => {
      await api("POST", `/v1/models/${encodeURIComponent(instance.model_uid)}/cancel`);
      await refresh();
    }, "danger"));
    cell.append(actions);
    const abilities = instance.model_ability || [];
    const type = abilities.includes("embed") ? "embedding" : abilities.includes("rerank") ? "rerank" : "LLM";
    row.append(name, element("td", t(TYPE_WORDS[type])), state, element("td", "—"), cell);
    return row;
  }

  async function modelRow(model) {
    const row = element("tr");
    row.dataset.uid = model.id;
    const name = element("td");
    name.append(element("strong", model.id));
    const about = [model.model_name !== model.id ? model.model_name : null,
      model.model_size_in_billions ? `${String(model.model_size_in_billions).replace("_", ".")}B` : null,
      model.quantization,
      model.context_length ? t("ctx_value", model.context_length) : null].filter(Boolean);
    if (about.length) name.append(element("div", about.join(" · "), "sub"));
    row.append(name, element("td", t(TYPE_WORDS[model.model_type] || "type_llm")));

    const state = element("td");
    const status = model.status || "ready";
    state.append(badgeOf(status));
    if (status === "loading") {
      const line = await progressLine(model.id);
      if (line) state.append(line);
    }
    if (model.error) state.append(element("div", model.error, "sub error"));
    row.append(state, element("td", model.memory_bytes ? bytes(model.memory_bytes) : "—"));

    const cell = element("td");
    const actions = element("div", null, "row-actions");
    cell.append(actions);
    const uid = encodeURIComponent(model.id);
    if (status === "unloaded" || status === "error") {
      actions.append(button(t("load"), async () => {
        await api("POST", `/v1/xindesk/models/${uid}/load`);
        await showModels();
      }));
    }
    if (status === "ready") {
      actions.append(button(t("unload"), async () => {
        await api("POST", `/v1/xindesk/models/${uid}/unload`);
        await showModels();
      }));
    }
    actions.append(button(t("stop"), async () => {
      if (!window.confirm(t("stop_confirm", model.id))) return;
      await api("DELETE", `/v1/models/${uid}`);
      await showModels();
    }, "danger"));
    row.append(cell);
    return row;
  }

  // -- launch --------------------------------------------------------------------------------

  function chooseSource(chosen) {
    source = chosen;
    $("source-catalog").setAttribute("aria-selected", String(chosen === "catalog"));
    $("source-installed").setAttribute("aria-selected", String(chosen === "installed"));
    $("row-name").hidden = chosen !== "catalog";
    $("row-size").hidden = chosen !== "catalog";
    $("row-quant").hidden = chosen !== "catalog";
    $("row-file").hidden = chosen !== "installed";
    $("launch-fit").textContent = "";
    $("launch-said").textContent = "";
    return chosen === "catalog" ? fillCatalogNames() : fillInstalled();
  }

  async function fillCatalogNames() {
    const type = $("launch-type").value;
    const names = await api("GET", `/v1/model_registrations/${encodeURIComponent(type)}`);
    const select = $("launch-name");
    const before = select.value;
    select.replaceChildren(...names.map((entry) => option(entry.model_name, entry.model_name)));
    if (names.some((entry) => entry.model_name === before)) select.value = before;
    $("launch-button").disabled = names.length === 0;
    if (!names.length) {
      $("launch-size").replaceChildren();
      $("launch-quant").replaceChildren();
      $("launch-fit").textContent = t("no_catalog_model");
      return;
    }
    await fillSizes();
  }

  async function fillSizes() {
    const type = $("launch-type").value;
    const name = $("launch-name").value;
    const path = `/v1/model_registrations/${encodeURIComponent(type)}/${encodeURIComponent(name)}`;
    const registration = await api("GET", path);
    if ($("launch-name").value !== name) return; // changed while we asked
    const sizes = [];
    for (const spec of registration.model_specs || []) {
      const size = spec.model_size_in_billions;
      if (size !== undefined && size !== null && !sizes.includes(String(size))) sizes.push(String(size));
    }
    // Xinference writes 1.5 as "1_5".
    $("launch-size").replaceChildren(...sizes.map((size) => option(size, `${size.replace("_", ".")}B`)));
    $("row-size").hidden = sizes.length === 0;
    await fillQuantizations();
  }

  function verdictWords(fit) {
    return fit ? t(`verdict_${fit.verdict}`) : null;
  }

  async function fillQuantizations() {
    const type = $("launch-type").value;
    const name = $("launch-name").value;
    if (!name) return;
    const context = Number($("launch-ctx").value) || 0;
    const size = $("launch-size").value;
    // The person may choose again while we ask: an answer to an older choice is dropped.
    const changed = () => $("launch-name").value !== name || $("launch-size").value !== size;
    const query = new URLSearchParams();
    if (size) query.set("size", size);
    if (context && type === "LLM") query.set("context_length", String(context));
    const path = `/v1/xindesk/catalog/${encodeURIComponent(type)}/${encodeURIComponent(name)}`;
    let files;
    try {
      files = await api("GET", `${path}?${query}`);
    } catch (error) {
      if (changed()) return;
      // Most often the hub cannot be reached: say so here, where the choice is made.
      catalogRows = [];
      $("launch-quant").replaceChildren();
      $("launch-fit").textContent = error.message;
      $("launch-fit").className = "fit bad";
      $("launch-button").disabled = true;
      return;
    }
    if (changed()) return;
    catalogRows = files.specs;
    $("launch-button").disabled = catalogRows.length === 0;
    const select = $("launch-quant");
    select.replaceChildren(...catalogRows.map((row, index) => {
      const parts = [row.model_size_in_billions ? `${String(row.model_size_in_billions).replace("_", ".")}B` : null,
        row.quantization, row.size ? bytes(row.size) : null, verdictWords(row.fit),
        row.recommended ? `★ ${t("recommended")}` : null,
        row.downloaded ? t("on_disk") : null].filter(Boolean);
      return option(String(index), parts.join(" · "));
    }));
    const recommended = catalogRows.findIndex((row) => row.recommended);
    select.value = String(recommended >= 0 ? recommended : 0);
    showFit();
  }

  function showFit() {
    const row = catalogRows[Number($("launch-quant").value)];
    $("launch-fit").textContent = row && row.fit ? row.fit.message : "";
    $("launch-fit").className = row && row.fit && row.fit.verdict === "does_not_fit" ? "fit bad" : "fit";
  }

  function launchNameOf(path) {
    let name = path.split(/[\\/]/).pop();
    if (name.toLowerCase().endsWith(".gguf")) name = name.slice(0, -5);
    const split = name.lastIndexOf("-00001-of-");
    return split > 0 ? name.slice(0, split) : name;
  }

  function guessType(text) {
    const name = text.toLowerCase();
    if (name.includes("rerank")) return "rerank";
    if (name.includes("embed") || name.includes("bge-") || name.includes("e5-")) return "embedding";
    return "LLM";
  }

  async function fillInstalled() {
    const answer = await api("GET", "/v1/xindesk/installed");
    installedFiles = answer.models.filter((model) => model.usable && !model.is_projector);
    const select = $("launch-file");
    select.replaceChildren(...installedFiles.map((model, index) => {
      const name = model.path.split(/[\\/]/).pop();
      return option(String(index), [name, model.quantization, bytes(model.size)].filter(Boolean).join(" · "));
    }));
    $("launch-button").disabled = installedFiles.length === 0;
    $("launch-fit").textContent = installedFiles.length ? "" : t("none_on_disk");
    if (installedFiles.length) {
      const first = installedFiles[0];
      $("launch-type").value = guessType(first.repo_id || first.path);
    }
  }

  function launchBody() {
    const type = $("launch-type").value;
    const context = Number($("launch-ctx").value) || null;
    const body = { model_type: type, model_engine: "llama.cpp" };
    if (type === "LLM" && context) body.n_ctx = context;
    if (source === "catalog") {
      const row = catalogRows[Number($("launch-quant").value)];
      body.model_name = $("launch-name").value;
      if (row) {
        body.model_size_in_billions = row.model_size_in_billions;
        body.quantization = row.quantization;
        body.download_hub = row.hub;
      }
    } else {
      const file = installedFiles[Number($("launch-file").value)];
      body.model_name = launchNameOf(file.path);
      body.model_path = file.path;
    }
    return body;
  }

  async function launch(event) {
    event.preventDefault();
    const body = launchBody();
    const row = source === "catalog" ? catalogRows[Number($("launch-quant").value)] : null;
    if (row && row.fit && row.fit.verdict === "does_not_fit" && !window.confirm(t("launch_does_not_fit"))) {
      return;
    }
    if (row && row.fit && row.fit.verdict === "does_not_fit") body.force = true;
    const said = $("launch-said");
    const launchButton = $("launch-button");
    said.textContent = t("launching", body.model_name);
    launchButton.disabled = true;
    try {
      const answer = await api("POST", "/v1/models?wait_ready=false", body);
      said.textContent = t("launched", answer.model_uid);
      clearError();
    } catch (error) {
      said.textContent = "";
      showError(error);
    } finally {
      launchButton.disabled = false;
    }
    await refresh();
  }

  // -- downloads -----------------------------------------------------------------------------

  async function showDownloads() {
    const answer = await api("GET", "/v1/xindesk/downloads");
    const jobs = answer.downloads;
    const list = $("downloads-list");
    list.replaceChildren(...jobs.map(downloadItem));
    $("downloads-empty").hidden = jobs.length > 0;
  }

  function downloadItem(job) {
    const item = element("li", null, "job");
    item.dataset.job = job.id;
    item.dataset.state = job.state;
    const head = element("div", null, "job-head");
    head.append(element("strong", job.label), element("span", t(`job_${job.state}`), `badge ${job.state}`));
    const bar = element("progress");
    bar.max = 1;
    bar.value = job.progress;
    const figures = [t("job_figures", bytes(job.downloaded_bytes), bytes(job.total_bytes)), percent(job.progress)];
    if (job.state === "downloading" && job.speed_bytes_per_second > 0) {
      figures.push(t("job_speed", bytes(job.speed_bytes_per_second), duration(job.eta_seconds)));
    }
    const line = element("div", figures.join(" · "), "sub figures");
    item.append(head, bar, line);
    if (job.error) item.append(element("div", job.error, "sub error"));
    const actions = element("div", null, "row-actions");
    const id = encodeURIComponent(job.id);
    if (job.state === "downloading" || job.state === "queued") {
      actions.append(button(t("pause"), () => api("POST", `/v1/xindesk/downloads/${id}/pause`).then(showDownloads)));
    }
    if (job.state === "paused" || job.state === "failed") {
      actions.append(button(t("resume"), () => api("POST", `/v1/xindesk/downloads/${id}/resume`).then(showDownloads)));
    }
    if (["queued", "downloading", "verifying", "paused", "failed"].includes(job.state)) {
      actions.append(button(t("cancel"), () => api("POST", `/v1/xindesk/downloads/${id}/cancel`).then(showDownloads), "danger"));
    }
    item.append(actions);
    return item;
  }

  // -- connect -------------------------------------------------------------------------------

  function urlRow(label, url) {
    const value = element("dd");
    if (url) {
      const copy = element("button", t("copy"), "copy-url");
      copy.type = "button";
      copy.addEventListener("click", () => copyText(url, copy).catch(showError));
      value.append(element("code", url), copy);
    } else {
      value.append(element("span", t("lan_off"), "sub"));
    }
    $("urls").append(element("dt", label), value);
  }

  function showUrls() {
    const list = $("urls");
    list.replaceChildren();
    const port = server.port;
    urlRow(t("url_here"), `http://127.0.0.1:${port}/v1`);
    const here = location.hostname;
    if (here !== "127.0.0.1" && here !== "localhost" && here !== "[::1]") {
      urlRow(t("url_this_address"), `${location.origin}/v1`);
    }
    urlRow(t("url_docker"), `http://host.docker.internal:${port}/v1`);
    if (server.lan_access && server.lan_addresses.length) {
      for (const address of server.lan_addresses) urlRow(t("url_lan"), `http://${address}:${port}/v1`);
    } else {
      urlRow(t("url_lan"), null);
    }
  }

  async function showExport() {
    const format = $("export-format").value;
    const target = $("export-target").value;
    const warnings = $("export-warnings");
    try {
      const answer = await api("GET", `/v1/xindesk/export/fastgpt?format=${encodeURIComponent(format)}&target=${encodeURIComponent(target)}`);
      $("export-text").value = answer.text;
      warnings.replaceChildren(...answer.warnings.map((text) => element("li", text)));
      $("export-copy").disabled = false;
    } catch (error) {
      $("export-text").value = "";
      warnings.replaceChildren(element("li", error.message, "error"));
      $("export-copy").disabled = true;
    }
  }

  async function runCheck() {
    const summary = $("check-summary");
    const table = $("check-table");
    const body = table.querySelector("tbody");
    body.replaceChildren();
    table.hidden = true;
    summary.textContent = t("checking");
    const report = await api("POST", "/v1/xindesk/export/check", {});
    body.replaceChildren(...report.results.map((result) => {
      const row = element("tr", null, result.passed ? "passed" : "failed");
      row.append(element("td", result.passed ? t("pass") : t("fail"), "mark"),
        element("td", result.name), element("td", result.reason));
      return row;
    }));
    table.hidden = false;
    summary.textContent = report.passed === report.total
      ? t("check_all", report.total)
      : t("check_some", report.passed, report.total);
  }

  // -- the whole page ------------------------------------------------------------------------

  async function refresh() {
    await Promise.all([showModels(), showDownloads()]);
  }

  async function poll() {
    if (polling || document.visibilityState !== "visible" || keyAsked) return;
    polling = true;
    try {
      await refresh();
      // A "cannot reach" banner goes away by itself once the server answers again.
      if (lastErrorStatus === 0) clearError();
    } catch (error) {
      showError(error);
    } finally {
      polling = false;
    }
  }

  async function start() {
    translatePage();
    $("forget-key").hidden = !sessionStorage.getItem(KEY_STORE);
    $("language").addEventListener("change", () => {
      language = $("language").value;
      localStorage.setItem(LANGUAGE_STORE, language);
      translatePage();
      Promise.all([showComputer(), refresh(), source === "catalog" ? fillQuantizations() : fillInstalled()])
        .then(showUrls).catch(showError);
    });
    $("forget-key").addEventListener("click", () => {
      sessionStorage.removeItem(KEY_STORE);
      location.reload();
    });
    $("banner-close").addEventListener("click", clearError);
    $("source-catalog").addEventListener("click", () => chooseSource("catalog").catch(showError));
    $("source-installed").addEventListener("click", () => chooseSource("installed").catch(showError));
    $("launch-type").addEventListener("change", () => {
      if (source === "catalog") fillCatalogNames().catch(showError);
    });
    $("launch-name").addEventListener("change", () => fillSizes().catch(showError));
    $("launch-size").addEventListener("change", () => fillQuantizations().catch(showError));
    $("launch-ctx").addEventListener("change", () => {
      if (source === "catalog") fillQuantizations().catch(showError);
    });
    $("launch-quant").addEventListener("change", showFit);
    $("launch-form").addEventListener("submit", launch);
    $("export-format").addEventListener("change", showExport);
    $("export-target").addEventListener("change", showExport);
    $("export-copy").addEventListener("click", () => copyText($("export-text").value, $("export-copy")).catch(showError));
    $("check-button").addEventListener("click", async () => {
      $("check-button").disabled = true;
      try {
        await runCheck();
        clearError();
      } catch (error) {
        $("check-summary").textContent = "";
        showError(error);
      } finally {
        $("check-button").disabled = false;
      }
    });

    try {
      server = await api("GET", "/v1/xindesk/server");
      $("version").textContent = server.version;
      const settings = await api("GET", "/v1/xindesk/settings");
      $("launch-ctx").value = String(settings.models.default_context_length);
      showUrls();
      await Promise.all([showComputer(), refresh(), chooseSource("catalog")]);
    } catch (error) {
      showError(error);
    }
    document.body.dataset.ready = "true";
    setInterval(poll, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", start);
})();
