// Import (/import): paste addresses, one a line, or upload a catalogue manifest (CSV or JSON
// Lines, read here by kadr import's rules, see ../manifest.ts) with a channel and a visibility
// for rows that name none; each becomes `POST /api/v1/videos/import` with an external id (the
// row's, else the address, as the CLI makes it), so pasting or uploading again makes no second
// video (the server answers 200 with the earlier import: "already imported"). A manifest is one
// batch, which moderators review together. The run's rows follow the server's progress until
// every file is fetched or failed, and its report downloads as the CLI's CSV; below, every import
// of mine, filtered by state or by the run's batch, with its own report.
import { ApiError, call, currentUser, get, importVideo, myChannels, type Channel, type ImportView, type Privacy, type UrlImport } from "../api";
import { append, h } from "../dom";
import { formatBytes, timeAgo } from "../format";
import { t, type Key } from "../i18n";
import { isPrivacy, privacyChoices } from "../limits";
import { COLUMNS, derivedId, parseManifest, pastedUrls, reportCsv, type ReportRow } from "../manifest";
import { importFailureText, importRefusalText, privacyLabel, rowProblemText } from "../messages";
import type { PageFn } from "../router";

/** Requests sent at once. */
const CONCURRENCY = 4;
/** How often the page asks how imports are going: at first, and at most when nothing moves. */
const POLL_MS = 2_000;
const POLL_MAX_MS = 15_000;
/** Imports a list page holds (the most the server gives). */
const PAGE = 100;

const STATES = ["queued", "fetching", "fetched", "failed"] as const;
const STATE_WORDS: Record<string, Key> = {
  queued: "imp.state.queued",
  fetching: "imp.state.fetching",
  fetched: "imp.state.fetched",
  failed: "imp.state.failed",
};

/** A video's status in words, once its file is in. */
const VIDEO_STATUS: Partial<Record<string, Key>> = {
  awaiting_upload: "status.awaiting_upload",
  queued: "status.queued",
  processing: "status.processing",
  ready: "status.ready",
  failed: "status.failed",
};

/** Whether the server is still at it: queued or fetching. */
const active = (v: ImportView) => v.state === "queued" || v.state === "fetching";

/** An import's line in a report: imported (skipped when it was there before), queued, failed. */
export function reportOf(v: ImportView, line: string, already: boolean): ReportRow {
  const base = { line, external_id: v.external_id ?? "", video_id: v.video_id };
  if (v.failure || v.state === "failed") {
    const code = v.failure?.code ?? "failed";
    return { ...base, status: "failed", code, message: importFailureText(code, v.failure?.message) };
  }
  if (v.state === "fetched") return { ...base, status: already ? "skipped" : "imported", code: "", message: t(STATE_WORDS.fetched) };
  return { ...base, status: "queued", code: "", message: t(STATE_WORDS[v.state] ?? "imp.state.queued") };
}

/** Saves `text` as a file named `name` (a CSV made here, nothing asked of the server). */
function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** What a row shows of an address or an id: the text as it is, left to right. */
const itemText = (text: string) => h("bdi.import-item", { dir: "ltr", title: text }, text);

/** The cells that show an import's state, progress and video, kept up to date by `show`. */
function importCells(label: string) {
  const state = h("td", { dataset: { testid: "import-state" } });
  const progress = h("td", { dataset: { testid: "import-progress" } });
  const video = h("td", { dataset: { testid: "import-video" } });
  const show = (v: ImportView | null, words: { state: string; already?: boolean; error?: string }) => {
    const status = v && v.state === "fetched" && !v.failure ? VIDEO_STATUS[v.video_status] : undefined;
    state.replaceChildren();
    append(state, [
      h("span", {}, words.state),
      words.already ? h("span.pill", { dataset: { testid: "import-already" } }, t("imp.already")) : null,
      status ? h("span.muted.small.import-status", {}, " · ", t(status)) : null,
      words.error ? h("div.error.small", { dataset: { testid: "import-error" } }, words.error) : null,
    ]);
    state.dataset.state = v?.state ?? "";
    progress.replaceChildren();
    if (v && (v.bytes_done > 0 || active(v) || v.bytes_total)) {
      const total = v.bytes_total ?? null;
      const bar = h("progress.progress", { max: total ?? 1, "aria-label": t("imp.progresslabel", { item: label }) });
      // Without a size from the source the bar only says it is moving.
      if (total !== null) bar.value = Math.min(v.bytes_done, total);
      else if (!active(v)) bar.value = 1;
      progress.append(bar, h("span.muted.small", { dataset: { testid: "import-bytes" } }, total !== null ? t("imp.bytes", { done: formatBytes(v.bytes_done), total: formatBytes(total) }) : formatBytes(v.bytes_done)));
    }
    video.replaceChildren(
      v && v.state !== "failed" ? h("a", { href: `/watch/${encodeURIComponent(v.video_id)}`, "aria-label": t("imp.watchlabel", { item: label }), dataset: { testid: "import-watch" } }, t("imp.watch")) : "",
    );
  };
  return { state, progress, video, show };
}

/** A table with its column heads, in a region that scrolls sideways on a narrow screen (and
 * takes the keyboard's focus to do so). */
function table(label: string, testid: string, heads: Key[], body: HTMLElement): HTMLElement {
  return h(
    "div.table-scroll",
    { role: "region", "aria-label": label, tabIndex: 0 },
    h("table.import-table", { dataset: { testid } }, h("thead", {}, h("tr", {}, ...heads.map((k) => h("th", { scope: "col" }, t(k))))), body),
  );
}

/** One row of a run: where it came from and what became of it. */
interface RunItem {
  line: number;
  label: string;
  external_id: string | null;
  body: UrlImport | null;
  phase: "waiting" | "sending" | "sent" | "refused" | "notsent";
  view?: ImportView;
  already?: boolean;
  code?: string;
  message?: string;
  show: (v: ImportView | null, words: { state: string; already?: boolean; error?: string }) => void;
}

/** A run: the rows of a paste or a manifest sent a few at once, then followed until the
 * server is done with each. */
function startRun(host: HTMLElement, name: string, batch: { id: string; name: string } | null, items: Omit<RunItem, "show" | "phase">[], note: string | null, changed: () => void): () => void {
  let stopped = false;
  const body = h("tbody");
  const counts = h("p.import-counts", { role: "status", dataset: { testid: "run-counts" } });
  const report = h("button", { type: "button", dataset: { testid: "run-report" } }, t("imp.report"));
  const run: RunItem[] = items.map((it) => {
    const cells = importCells(it.label);
    body.append(h("tr", { dataset: { testid: "run-row", line: String(it.line) } }, h("td", {}, String(it.line)), h("td", {}, itemText(it.label)), cells.state, cells.progress, cells.video));
    const item: RunItem = { ...it, phase: it.body ? "waiting" : "notsent", show: cells.show };
    return item;
  });
  const title = batch ? t("imp.runbatch", { name: batch.name }) : t("imp.run");
  host.replaceChildren();
  append(host, [
    h("h2", { tabIndex: -1 }, title),
    note ? h("p.muted", { dataset: { testid: "run-note" } }, note) : null,
    counts,
    table(title, "run-table", ["imp.col.line", "imp.col.item", "imp.col.state", "imp.col.progress", "imp.col.video"], body),
    h("div.form-actions", {}, report),
  ]);
  host.hidden = false;

  const draw = (it: RunItem) => {
    if (it.phase === "notsent") it.show(null, { state: t("imp.state.notsent"), error: it.message });
    else if (it.phase === "waiting") it.show(null, { state: t("imp.state.waiting") });
    else if (it.phase === "sending") it.show(null, { state: t("imp.state.sending") });
    else if (it.phase === "refused") it.show(null, { state: t("imp.state.failed"), error: it.message });
    else if (it.view) {
      const failure = it.view.failure ? importFailureText(it.view.failure.code, it.view.failure.message) : it.view.state === "failed" ? importFailureText("failed") : undefined;
      it.show(it.view, { state: t(STATE_WORDS[it.view.state] ?? "imp.state.queued"), already: it.already, error: failure });
    }
  };
  const tally = () => {
    let done = 0;
    let waiting = 0;
    let failed = 0;
    for (const it of run) {
      if (it.phase === "notsent" || it.phase === "refused" || it.view?.failure || it.view?.state === "failed") failed++;
      else if (it.view?.state === "fetched") done++;
      else waiting++;
    }
    counts.textContent = t("imp.progress", { done, waiting, failed });
  };
  run.forEach(draw);
  tally();

  const rows = (): ReportRow[] =>
    run.map((it) => {
      const base = { line: String(it.line), external_id: it.external_id ?? "", video_id: "" };
      if (it.phase === "notsent" || it.phase === "refused") return { ...base, status: "failed", code: it.code ?? "", message: it.message ?? "" };
      if (it.view) return reportOf(it.view, String(it.line), !!it.already);
      return { ...base, status: "queued", code: "", message: t("imp.state.waiting") };
    });
  report.addEventListener("click", () => download(`${name.replace(/\.[^.]*$/, "") || "import"}.report.csv`, reportCsv(rows())));

  const send = async (it: RunItem) => {
    it.phase = "sending";
    draw(it);
    for (let attempt = 0; ; attempt++) {
      try {
        const answer = await importVideo({ ...it.body!, batch: batch?.id ?? null });
        it.phase = "sent";
        it.view = answer.view;
        it.already = !answer.created;
        break;
      } catch (e) {
        // Too many at once: wait as told, a few times.
        if (e instanceof ApiError && e.status === 429 && attempt < 5 && !stopped) {
          await new Promise((r) => setTimeout(r, (e.retryAfter ?? 2 ** attempt) * 1000));
          continue;
        }
        it.phase = "refused";
        it.code = e instanceof ApiError ? e.code : "error";
        it.message = importRefusalText(e);
        break;
      }
    }
    draw(it);
    tally();
  };
  const queue = run.filter((it) => it.phase === "waiting");
  const worker = async () => {
    for (let it = queue.shift(); it && !stopped; it = queue.shift()) await send(it);
  };

  // Following: a batch's pages, or each import still going by its id.
  const following = () => run.filter((it) => it.view && (active(it.view) || (it.view.state === "fetched" && !it.view.failure && !["ready", "failed"].includes(it.view.video_status))));
  let wait = POLL_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const poll = async () => {
    const open = following();
    if (stopped || !open.length) return;
    const before = JSON.stringify(open.map((it) => it.view));
    const byId = new Map(run.filter((it) => it.view).map((it) => [it.view!.id, it]));
    try {
      const fresh = new Set<string>();
      if (batch && open.length > CONCURRENCY) {
        let cursor: string | undefined;
        do {
          const page = await get("/api/v1/imports", { query: { batch: batch.id, limit: PAGE, cursor } });
          for (const v of page.items) {
            const it = byId.get(v.id);
            if (it) it.view = v;
            fresh.add(v.id);
          }
          cursor = page.next_cursor ?? undefined;
        } while (cursor && !stopped);
      }
      // Each by its id: all of them without a batch, else those of an earlier run (imported
      // before, so in another batch or none).
      {
        const ids = open.map((it) => it.view!.id).filter((id) => !fresh.has(id));
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            for (let id = ids.shift(); id && !stopped; id = ids.shift()) byId.get(id)!.view = await get("/api/v1/imports/{id}", { path: { id } });
          }),
        );
      }
    } catch {
      // Asked again at the next turn.
    }
    if (stopped) return;
    open.forEach(draw);
    tally();
    const moved = JSON.stringify(open.map((it) => it.view)) !== before;
    if (moved) changed();
    wait = moved ? POLL_MS : Math.min(POLL_MAX_MS, wait * 1.5);
    timer = setTimeout(() => void poll(), wait);
  };
  void Promise.all(Array.from({ length: CONCURRENCY }, worker)).then(() => {
    if (stopped) return;
    changed();
    timer = setTimeout(() => void poll(), POLL_MS);
  });
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/** Every import of mine, newest first, by state or by a batch, following those still going. */
function importList(batchOf: () => { id: string; name: string } | null) {
  const body = h("tbody");
  const status = h("p.list-status", { dataset: { testid: "list-status" } });
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  const state = h(
    "select",
    { dataset: { testid: "list-state" } },
    h("option", { value: "" }, t("imp.filter.all")),
    ...STATES.map((s) => h("option", { value: s }, t(STATE_WORDS[s]))),
  );
  const onlyBatch = h("input", { type: "checkbox", dataset: { testid: "list-batch" } });
  const batchLabel = h("label.inline-label", { hidden: true }, onlyBatch, t("imp.filter.batch"));
  const report = h("button", { type: "button", dataset: { testid: "list-report" } }, t("imp.listreport"));
  let views: ImportView[] = [];
  let cursor: string | undefined;
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const row = (v: ImportView) => {
    const label = v.url ?? v.external_id ?? v.id;
    const cells = importCells(label);
    cells.show(v, { state: t(STATE_WORDS[v.state] ?? "imp.state.queued"), error: v.failure ? importFailureText(v.failure.code, v.failure.message) : undefined });
    return h(
      "tr",
      { dataset: { testid: "import-row", importId: v.id } },
      h("td", {}, itemText(label), v.external_id && v.external_id !== v.url ? h("div.muted.small", {}, itemText(v.external_id)) : null),
      cells.state,
      cells.progress,
      cells.video,
      h("td", {}, h("time.muted.small", { dateTime: v.created_at }, timeAgo(v.created_at))),
    );
  };
  const query = () => {
    const batch = onlyBatch.checked ? batchOf() : null;
    return { state: state.value || undefined, batch: batch?.id };
  };
  const draw = () => {
    body.replaceChildren(...views.map(row));
    status.textContent = views.length ? "" : t("imp.listempty");
  };
  const follow = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!stopped && views.some(active)) timer = setTimeout(() => void load(true), POLL_MS * 2);
  };
  /** The first page again (`again`: as many as are shown, to follow them), or the next. */
  const load = async (again: boolean) => {
    const gen = again ? ++generation : generation;
    more.disabled = true;
    try {
      const limit = again ? Math.min(PAGE, Math.max(50, views.length)) : 50;
      const page = await get("/api/v1/imports", { query: { ...query(), limit, cursor: again ? undefined : cursor } });
      if (gen !== generation || stopped) return;
      if (!again) {
        views = views.concat(page.items);
        cursor = page.next_cursor ?? undefined;
      } else {
        // Past the first page asked again (over a hundred shown), the rows stay as they were.
        const rest = views.slice(limit).filter((v) => !page.items.some((p) => p.id === v.id));
        if (!rest.length) cursor = page.next_cursor ?? undefined;
        views = page.items.concat(rest);
      }
      more.hidden = !cursor;
      draw();
    } catch (e) {
      status.textContent = importRefusalText(e);
    } finally {
      more.disabled = false;
    }
    follow();
  };
  const reload = () => {
    views = [];
    cursor = undefined;
    void load(true);
  };
  state.addEventListener("change", reload);
  onlyBatch.addEventListener("change", reload);
  more.addEventListener("click", () => void load(false));
  report.addEventListener("click", () => download("imports.report.csv", reportCsv(views.map((v) => reportOf(v, "", false)))));
  const el = h(
    "section.import-section",
    { dataset: { testid: "import-list" } },
    h("h2", {}, t("imp.list")),
    h("div.import-filters", {}, h("label.inline-label", {}, t("imp.filter.state"), state), batchLabel),
    table(t("imp.list"), "list-table", ["imp.col.item", "imp.col.state", "imp.col.progress", "imp.col.video", "imp.col.started"], body),
    status,
    h("div.form-actions", {}, more, report),
  );
  return {
    el,
    reload,
    /** A run's batch: offered as a filter. */
    batch(on: boolean) {
      batchLabel.hidden = !on;
      onlyBatch.checked = on;
      reload();
    },
    refresh: () => void load(true),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export const importPage: PageFn = async (root, _params, url) => {
  root.append(h("h1.page-title", {}, t("imp.title")));
  if (!(await currentUser())) {
    root.append(h("p.notice", {}, h("a", { href: "/login?next=/import" }, t("imp.signin"))));
    return;
  }
  const channels = await myChannels().catch((): Channel[] => []);
  const channel = h("select", { name: "channel", dataset: { testid: "import-channel" } }, ...channels.map((c) => h("option", { value: c.handle }, `${c.display_name} (@${c.handle})`)));
  const privacy = h("select", { name: "privacy", dataset: { testid: "import-privacy" } }, ...privacyChoices.map((p) => h("option", { value: p }, privacyLabel(p))));
  const options = h(
    "fieldset.import-options",
    {},
    h("legend", {}, t("imp.options")),
    channels.length > 1 ? h("label", {}, t("upload.field.channel"), channel) : null,
    h("label", {}, t("upload.field.privacy"), privacy),
    h("p.muted.small", {}, t("imp.privacyhint")),
  );
  /** The form's channel and visibility for what names none. */
  const defaults = (body: UrlImport): UrlImport => {
    const p: Privacy | null = isPrivacy(privacy.value) ? privacy.value : null;
    return { ...body, privacy: body.privacy ?? p, channel: body.channel ?? (channels.length > 1 ? channel.value : null) };
  };

  const urls = h("textarea", { id: "import-urls", name: "urls", rows: 5, dir: "ltr", spellcheck: false, autocomplete: "off", dataset: { testid: "import-urls" } });
  const pasteError = h("div.error", { role: "alert", hidden: true, dataset: { testid: "paste-error" } });
  const pasteStart = h("button.primary", { type: "submit", dataset: { testid: "import-start" } }, t("imp.start"));
  const paste = h(
    "form.import-form",
    { "aria-labelledby": "import-paste-title" },
    h("h2#import-paste-title", {}, t("imp.paste")),
    h("label", { for: "import-urls" }, t("imp.urls")),
    urls,
    h("div.form-actions", {}, pasteStart),
    pasteError,
  );

  const file = h("input", { id: "import-manifest", type: "file", accept: ".csv,.jsonl,.ndjson,.json,text/csv,application/x-ndjson", dataset: { testid: "import-manifest" } });
  const manifestError = h("div.error", { role: "alert", hidden: true, dataset: { testid: "manifest-error" } });
  const manifestStart = h("button.primary", { type: "submit", dataset: { testid: "manifest-start" } }, t("imp.manifeststart"));
  const manifest = h(
    "form.import-form",
    { "aria-labelledby": "import-manifest-title" },
    h("h2#import-manifest-title", {}, t("imp.manifest")),
    h("p.muted.small", { id: "import-manifest-hint" }, t("imp.manifesthint"), h("br"), h("code.import-columns", { dir: "ltr" }, COLUMNS.join(", "))),
    h("label", { for: "import-manifest" }, t("imp.manifestfile")),
    file,
    h("div.form-actions", {}, manifestStart),
    manifestError,
  );
  file.setAttribute("aria-describedby", "import-manifest-hint");

  const runHost = h("section.import-section", { hidden: true, dataset: { testid: "import-run" } });
  let batch: { id: string; name: string } | null = null;
  const asked = url.searchParams.get("batch");
  if (asked) batch = { id: asked, name: asked };
  const list = importList(() => batch);
  let stopRun: (() => void) | null = null;
  const begin = (name: string, b: typeof batch, items: Parameters<typeof startRun>[3], note: string | null) => {
    stopRun?.();
    stopRun = startRun(runHost, name, b, items, note, () => list.refresh());
    runHost.querySelector("h2")?.focus();
  };
  const say = (el: HTMLElement, text: string) => {
    el.textContent = text;
    el.hidden = !text;
  };

  paste.addEventListener("submit", (e) => {
    e.preventDefault();
    const lines = pastedUrls(urls.value);
    if (!lines.length) {
      say(pasteError, t("imp.nourls"));
      urls.focus();
      return;
    }
    say(pasteError, "");
    const items = lines.map(({ line, url }) => {
      const external_id = derivedId(url);
      return { line, label: url, external_id, body: defaults({ url, external_id }) };
    });
    begin("import", null, items, null);
  });

  manifest.addEventListener("submit", (e) => {
    e.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      say(manifestError, t("imp.nofile"));
      file.focus();
      return;
    }
    say(manifestError, "");
    manifestStart.disabled = true;
    void (async () => {
      try {
        const rows = parseManifest(chosen.name, await chosen.text());
        if (!rows.length) {
          say(manifestError, t("imp.norows"));
          return;
        }
        const good = rows.filter((r) => r.kind === "remote").length;
        const unsent = rows.some((r) => r.kind === "remote" && r.unsent.length);
        // One batch for the manifest's imports, named after it (as kadr import names its run's).
        const made = good ? await call("post", "/api/v1/imports/batches", { body: { name: chosen.name } }) : null;
        batch = made && { id: made.id, name: made.name };
        const items = rows.map((r) =>
          r.kind === "remote"
            ? { line: r.line, label: r.body.url, external_id: r.external_id, body: defaults(r.body) }
            : { line: r.line, label: r.external_id ?? "", external_id: r.external_id, body: null, code: r.code, message: rowProblemText(r.code, r.vars) },
        );
        const note = [t("imp.counts", { total: rows.length, good, bad: rows.length - good }), unsent ? t("imp.unsent") : ""].filter(Boolean).join(" ");
        begin(chosen.name, batch, items, note);
        list.batch(!!batch);
      } catch (err) {
        say(manifestError, importRefusalText(err));
      } finally {
        manifestStart.disabled = false;
      }
    })();
  });

  root.append(h("div.import-page", {}, h("p.muted", {}, t("imp.intro")), options, h("div.import-forms", {}, paste, manifest), runHost, list.el));
  if (asked) list.batch(true);
  else list.reload();
  return () => {
    stopRun?.();
    list.stop();
  };
};
