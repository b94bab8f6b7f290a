// Webhooks (/settings/webhooks): my endpoints, each with its URL, description, events and
// state (disabled, and why, with a button that turns it on again; failing since when; the
// previous secret's overlap after a rotation), its actions (edit, disable, rotate the secret,
// a test ping, delete; the risky ones asked in a dialog) and its delivery log (newest first,
// pages by cursor, followed while deliveries are pending, each redelivered by a button, the
// new delivery at the top). A form adds an endpoint (administrators may make one that hears
// every user's events). The secret is shown once, after adding and after a rotation.
import { ApiError, call, currentUser, get, isAdmin, type Delivery, type Endpoint, type EndpointPatch, type EndpointWithSecret, type NewEndpoint } from "../api";
import { confirmDialog } from "../dialog";
import { append, h } from "../dom";
import { dateTime, timeAgo } from "../format";
import { t, type Key } from "../i18n";
import { webhookLimits } from "../limits";
import { webhookRefusalText } from "../messages";
import type { PageFn } from "../router";
import { copyRow } from "../share";
import {
  anyPending,
  choiceOf,
  deliveryCounts,
  deliveryStateText,
  disabledBy,
  durationText,
  eventsOf,
  eventText,
  isSubscribable,
  mergeFirstPage,
  nextWait,
  POLL_MS,
  sameEvents,
  WEBHOOK_EVENTS,
  withDelivery,
  type EventChoice,
} from "../webhooks";

/** Deliveries a page of the log holds, and the most asked at once when following it. */
const PAGE = 20;
const PAGE_MAX = 100;

/** A unique prefix for the ids of one form's fields. */
let forms = 0;

/** A line that says how something went: its words, marked as an error or not. */
function say(el: HTMLElement, text: string, error = false): void {
  el.textContent = text;
  el.classList.toggle("error", error);
  el.hidden = !text;
}

/** A time as a <time> element: how long ago (or until), the date and time in its title; or,
 * `absolute`, the date and time. */
const when = (iso: string, absolute = false) => h("time", { dateTime: iso, title: absolute ? timeAgo(iso) : dateTime(iso) }, absolute ? dateTime(iso) : timeAgo(iso));

/** A character no translation has: where a node goes in a sentence. */
const SLOT = "\uE000";

/** The sentence of `key` with `node` where its `{name}` is (a <time>, a URL left to right). */
function sentence(key: Key, name: string, node: Node, vars: Record<string, string | number> = {}): (string | Node)[] {
  const [before, after = ""] = t(key, { ...vars, [name]: SLOT }).split(SLOT);
  return [before, node, after];
}

/** A URL as it is, left to right inside any sentence. */
const urlText = (url: string) => h("bdi.webhook-url", { dir: "ltr" }, url);

/** An endpoint's form: its URL, description and events (all, or those ticked); with `admin`
 * on a new one, whether it hears every user's events. */
function endpointForm(opts: { endpoint?: Endpoint; admin: boolean; submit: string; cancel?: () => void }) {
  const id = `wh-form-${++forms}`;
  const e = opts.endpoint;
  const url = h("input", {
    id: `${id}-url`,
    type: "url",
    name: "url",
    required: true,
    maxLength: webhookLimits.url,
    dir: "ltr",
    autocomplete: "off",
    spellcheck: false,
    placeholder: "https://",
    value: e?.url ?? "",
    "aria-describedby": `${id}-url-hint`,
    dataset: { testid: "webhook-url" },
  });
  const description = h("input", {
    id: `${id}-description`,
    name: "description",
    maxLength: webhookLimits.description,
    autocomplete: "off",
    dir: "auto",
    value: e?.description ?? "",
    "aria-describedby": `${id}-description-hint`,
    dataset: { testid: "webhook-description" },
  });
  const start: EventChoice = choiceOf(e?.events ?? ["*"]);
  const all = h("input", { type: "checkbox", name: "all-events", checked: start.all, dataset: { testid: "webhook-all-events" } });
  const boxes = WEBHOOK_EVENTS.map((type) => ({
    type,
    box: h("input", { type: "checkbox", name: "event", value: type, checked: start.chosen.includes(type), dataset: { testid: `webhook-event-${type}` } }),
  }));
  const choices = h(
    "fieldset.webhook-choices",
    { hidden: start.all, dataset: { testid: "webhook-events" } },
    h("legend", {}, t("wh.choose")),
    h("ul.scope-list", {}, ...boxes.map(({ type, box }) => h("li", {}, h("label.inline-label.webhook-event", {}, box, h("code", { dir: "ltr" }, type), h("span.muted", {}, eventText(type)))))),
  );
  all.addEventListener("change", () => {
    choices.hidden = all.checked;
  });
  const everyone = opts.admin && !e ? h("input", { type: "checkbox", name: "all-users", "aria-describedby": `${id}-all-users-hint`, dataset: { testid: "webhook-all-users" } }) : null;
  const message = h("div.form-message", { id: `${id}-message`, role: "alert", hidden: true, dataset: { testid: "webhook-form-message" } });
  const save = h("button.primary", { type: "submit", dataset: { testid: "webhook-save" } }, opts.submit);
  const cancel = opts.cancel ? h("button", { type: "button", dataset: { testid: "webhook-cancel" } }, t("wh.cancel")) : null;
  if (cancel && opts.cancel) cancel.addEventListener("click", opts.cancel);
  const form = h(
    "form.channel-form.webhook-form",
    {},
    h("div.field", {}, h("label", { for: url.id }, t("wh.url")), url, h("span.muted.hint", { id: `${id}-url-hint` }, t("wh.urlhint"))),
    h("div.field", {}, h("label", { for: description.id }, t("wh.description")), description, h("span.muted.hint", { id: `${id}-description-hint` }, t("wh.descriptionhint"))),
    h("fieldset", {}, h("legend", {}, t("wh.events")), h("label.inline-label", {}, all, t("wh.allevents")), choices),
    everyone ? h("div.field", {}, h("label.inline-label", {}, everyone, t("wh.allusers")), h("span.muted.hint", { id: `${id}-all-users-hint` }, t("wh.allusershint"))) : null,
    h("div.form-actions", {}, save, cancel),
    message,
  );
  const fields: Record<string, HTMLElement> = { url, description, events: all, all_users: everyone ?? all };
  /** Marks the field the server named (or none) as the one at fault, and takes the focus there. */
  const blame = (name: string | null) => {
    for (const el of Object.values(fields)) el.removeAttribute("aria-invalid");
    const field = name ? fields[name] : undefined;
    if (!field) return;
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-errormessage", message.id);
    field.focus();
  };
  return {
    form,
    save,
    url,
    /** The events ticked, as the API takes them; `null` (and said so) when none is. */
    events(): string[] | null {
      const list = eventsOf({ all: all.checked, chosen: boxes.filter((b) => b.box.checked).map((b) => b.type), other: start.other });
      if (!list) {
        say(message, t("wh.noevents"), true);
        (boxes[0]?.box ?? all).focus();
      }
      return list;
    },
    values: () => ({ url: url.value.trim(), description: description.value.trim(), allUsers: everyone?.checked ?? false }),
    refused(err: unknown) {
      say(message, webhookRefusalText(err), true);
      blame(err instanceof ApiError ? err.field : null);
    },
    clear() {
      say(message, "");
      blame(null);
    },
    reset() {
      form.reset();
      choices.hidden = all.checked;
    },
  };
}

/** The secret of an endpoint just made or rotated, shown this once, with a copy button. */
function secretBox(secret: string, rotated: boolean, done: () => void): HTMLElement {
  const field = h("input.token-value", { readOnly: true, value: secret, autocomplete: "off", spellcheck: false, dir: "ltr", "aria-label": t("wh.secret.label"), dataset: { testid: "webhook-secret" } });
  const close = h("button", { type: "button", dataset: { testid: "webhook-secret-done" } }, t("wh.secret.done"));
  const box = h(
    "div.token-made.webhook-secret",
    { dataset: { testid: "webhook-secret-box" } },
    h("p", { role: "alert", dataset: { testid: "webhook-secret-note" } }, h("strong", {}, t(rotated ? "wh.secret.rotated" : "wh.secret.made"))),
    copyRow(field, t("wh.secret.label"), "webhook-secret"),
    h("p.muted.small", {}, t("wh.secret.hint")),
    h("div.form-actions", {}, close),
  );
  close.addEventListener("click", () => {
    box.remove();
    done();
  });
  return box;
}

const COLUMNS: Key[] = ["wh.col.event", "wh.col.state", "wh.col.attempts", "wh.col.status", "wh.col.error", "wh.col.duration", "wh.col.created", "wh.col.actions"];

/** An endpoint's delivery log: a table of its deliveries, newest first, a page at a time. While
 * some are pending (or just after a ping or a redelivery) the first rows are asked again, less
 * often while nothing moves. */
function deliveryLog(endpoint: () => Endpoint, moved: () => void, announce: (text: string, error?: boolean) => void) {
  const body = h("tbody");
  const counts = h("p.import-counts", { role: "status", dataset: { testid: "delivery-counts" } });
  const status = h("p.list-status", { dataset: { testid: "delivery-status" } });
  const more = h("button.more", { type: "button", hidden: true, dataset: { testid: "delivery-more" } }, t("list.showmore"));
  const refresh = h("button", { type: "button", dataset: { testid: "delivery-refresh" } }, t("wh.refresh"));
  const region = h(
    "div.table-scroll",
    { role: "region", "aria-label": t("wh.deliverieslabel", { url: endpoint().url }), tabIndex: 0, hidden: true },
    h("table.import-table.delivery-table", { dataset: { testid: "delivery-table" } }, h("thead", {}, h("tr", {}, ...COLUMNS.map((k) => h("th", { scope: "col" }, t(k))))), body),
  );
  const el = h(
    "details.webhook-log",
    { dataset: { testid: "webhook-log" } },
    h("summary", {}, t("wh.deliveries")),
    h("div.webhook-log-body", {}, counts, region, status, h("div.form-actions", {}, more, refresh)),
  );
  let shown: Delivery[] = [];
  let cursor: string | undefined;
  let loaded = false;
  let generation = 0;
  let wait = POLL_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  /** The delivery just made here (a ping, a redelivery): marked in the table. */
  let fresh = new Set<string>();

  const row = (d: Delivery) => {
    const redeliver = h(
      "button.small",
      { type: "button", disabled: !endpoint().enabled, "aria-label": t("wh.redeliverlabel", { event: d.event_type, when: timeAgo(d.created_at) }), dataset: { testid: "delivery-redeliver" } },
      t("wh.redeliver"),
    );
    redeliver.addEventListener("click", () => void again(d, redeliver));
    const sub =
      d.state === "delivered" && d.delivered_at
        ? h("div.muted.small", {}, ...sentence("wh.deliveredat", "when", when(d.delivered_at)))
        : d.state === "pending" && d.next_attempt_at && d.attempts > 0
          ? h("div.muted.small", { dataset: { testid: "delivery-next" } }, ...sentence("wh.next", "when", when(d.next_attempt_at)))
          : null;
    const tr = h(
      "tr",
      { dataset: { testid: "delivery", deliveryId: d.id, eventId: d.event_id, state: d.state } },
      h(
        "td",
        {},
        h("code.delivery-type", { dir: "ltr", title: eventText(d.event_type), dataset: { testid: "delivery-type" } }, d.event_type),
        d.redelivery_of ? h("span.pill", { dataset: { testid: "delivery-redelivery" } }, t("wh.redelivery")) : null,
        h("div.muted.small", {}, h("code.delivery-event", { dir: "ltr", dataset: { testid: "delivery-event" } }, d.event_id)),
      ),
      h("td", {}, h(`span.pill.delivery-state.${d.state}`, { dataset: { testid: "delivery-state" } }, deliveryStateText(d.state)), sub),
      h("td.num", { dataset: { testid: "delivery-attempts" } }, String(d.attempts)),
      h("td.num", { dataset: { testid: "delivery-code" } }, d.last_status === null || d.last_status === undefined ? "—" : String(d.last_status)),
      h("td", { dataset: { testid: "delivery-error" } }, d.last_error ? h("bdi.delivery-error", { dir: "ltr" }, d.last_error) : ""),
      h("td.num", { dataset: { testid: "delivery-duration" } }, durationText(d.last_duration_ms)),
      h("td", { dataset: { testid: "delivery-created" } }, when(d.created_at)),
      h("td", {}, redeliver),
    );
    if (fresh.has(d.id)) tr.classList.add("fresh");
    return tr;
  };
  /** The redeliver button of `id`'s row, if it is shown. */
  const button = (id: string) => body.querySelector<HTMLButtonElement>(`tr[data-delivery-id="${CSS.escape(id)}"] [data-testid=delivery-redeliver]`);
  const draw = () => {
    // The keyboard stays where it was: on the same row's button once the rows are new.
    const active = document.activeElement;
    const focused = active instanceof HTMLElement && body.contains(active) ? active.closest("tr")?.dataset.deliveryId : undefined;
    body.replaceChildren(...shown.map(row));
    if (focused) button(focused)?.focus();
    region.hidden = !shown.length;
    const c = deliveryCounts(shown);
    counts.textContent = shown.length ? t("wh.counts", c) : "";
    counts.hidden = !shown.length;
    status.textContent = shown.length ? "" : loaded ? t("wh.nodeliveries") : t("list.more");
    status.hidden = !status.textContent;
    more.hidden = !cursor;
  };
  const follow = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped || !el.open) return;
    if (anyPending(shown)) timer = setTimeout(() => void load(true), wait);
  };
  /** The first page again (`first`: as many rows as are shown, to follow them), or the next. */
  const load = async (first: boolean) => {
    const gen = first ? ++generation : generation;
    more.disabled = true;
    const before = JSON.stringify(shown);
    try {
      const limit = first ? Math.min(PAGE_MAX, Math.max(PAGE, shown.length)) : PAGE;
      const page = await get("/api/v1/webhooks/{id}/deliveries", { path: { id: endpoint().id }, query: { limit, cursor: first ? undefined : cursor } });
      if (gen !== generation || stopped) return;
      if (first) {
        const merged = mergeFirstPage(shown, page.items, limit);
        // Rows kept past the page: the cursor already points past them.
        if (merged.length === page.items.length) cursor = page.next_cursor ?? undefined;
        shown = merged;
      } else {
        shown = shown.concat(page.items.filter((d) => !shown.some((s) => s.id === d.id)));
        cursor = page.next_cursor ?? undefined;
      }
      const changed = JSON.stringify(shown) !== before;
      wait = nextWait(wait, changed);
      if (changed || !loaded || more.hidden !== !cursor) {
        loaded = true;
        draw();
      }
      if (changed && before !== "[]") moved();
    } catch (e) {
      status.textContent = webhookRefusalText(e);
      status.hidden = false;
      wait = nextWait(wait, false);
    } finally {
      more.disabled = false;
    }
    follow();
  };
  /** Redelivers `d`: the new delivery at the top, followed. */
  const again = async (d: Delivery, pressed: HTMLButtonElement) => {
    pressed.disabled = true;
    try {
      const made = await call("post", "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", { path: { id: endpoint().id, delivery: d.id } });
      add(made);
      announce(t("wh.redelivered"));
      // The rows are new: the keyboard goes back to the button it pressed.
      button(d.id)?.focus();
    } catch (e) {
      announce(webhookRefusalText(e), true);
      pressed.disabled = !endpoint().enabled;
      pressed.focus();
    }
  };
  /** A delivery just made (a ping, a redelivery): at the top, and followed. */
  const add = (d: Delivery) => {
    fresh = new Set([d.id]);
    shown = withDelivery(shown, d);
    wait = POLL_MS;
    draw();
    // Opening it asks for the log; open, it is followed.
    if (!el.open) el.open = true;
    else follow();
  };
  el.addEventListener("toggle", () => {
    if (el.open) void load(true);
    else if (timer) clearTimeout(timer);
  });
  refresh.addEventListener("click", () => void load(true));
  more.addEventListener("click", () => void load(false));
  draw();
  return {
    el,
    add,
    /** The endpoint changed: the table's name follows its URL; turned on or off (`toggled`),
     * the rows' buttons follow and the log is asked again (disabling fails its pending
     * deliveries). */
    changed(toggled: boolean) {
      region.setAttribute("aria-label", t("wh.deliverieslabel", { url: endpoint().url }));
      if (!toggled) return;
      draw();
      if (el.open) void load(true);
    },
    open() {
      el.open = true;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** One endpoint: what it is, its state, its actions, its secret when just shown, its log. */
function endpointCard(start: Endpoint, admin: boolean, removed: (url: string) => void) {
  let endpoint = start;
  const headingId = `wh-${endpoint.id}`;
  const heading = h("h3.webhook-title", { id: headingId, tabIndex: -1 });
  const info = h("div.webhook-info");
  const notice = h("div.webhook-notices");
  const message = h("div.form-message", { role: "status", hidden: true, dataset: { testid: "webhook-message" } });
  const secretHost = h("div");
  const editHost = h("div", { hidden: true });
  const announce = (text: string, error = false) => say(message, text, error);

  const edit = h("button", { type: "button", "aria-expanded": "false", dataset: { testid: "webhook-edit" } }, t("wh.edit"));
  const disable = h("button", { type: "button", dataset: { testid: "webhook-disable" } }, t("wh.disable"));
  const rotate = h("button", { type: "button", dataset: { testid: "webhook-rotate" } }, t("wh.rotate"));
  const ping = h("button", { type: "button", dataset: { testid: "webhook-ping" } }, t("wh.ping"));
  const remove = h("button.danger", { type: "button", dataset: { testid: "webhook-delete" } }, t("wh.delete"));
  const actions = h("div.form-actions.webhook-actions", { role: "group" }, edit, ping, rotate, disable, remove);

  const log = deliveryLog(
    () => endpoint,
    () => void refreshEndpoint(),
    announce,
  );

  const el = h(
    "article.webhook",
    { "aria-labelledby": headingId, dataset: { testid: "webhook", webhookId: endpoint.id } },
    heading,
    info,
    notice,
    secretHost,
    actions,
    editHost,
    message,
    log.el,
  );

  /** Shows what the endpoint is now. */
  const draw = () => {
    el.dataset.enabled = String(endpoint.enabled);
    heading.replaceChildren(urlText(endpoint.url));
    const events = choiceOf(endpoint.events);
    info.replaceChildren();
    append(info, [
      h(
        "div.webhook-badges",
        {},
        h(`span.pill.webhook-state${endpoint.enabled ? ".ok" : ".off"}`, { dataset: { testid: "webhook-state" } }, t(endpoint.enabled ? "wh.enabled" : "wh.disabled")),
        endpoint.all_users ? h("span.pill", { dataset: { testid: "webhook-all-users-badge" } }, t("wh.allusersbadge")) : null,
      ),
      endpoint.description ? h("p.webhook-description", { dir: "auto", dataset: { testid: "webhook-description-text" } }, endpoint.description) : null,
      h(
        "p.small.webhook-events",
        { dataset: { testid: "webhook-events-text" } },
        t("wh.eventslabel"),
        " ",
        events.all ? t("wh.alleventsshort") : (eventsOf(events) ?? []).map((e, i) => [i ? ", " : "", h("code", { dir: "ltr", title: isSubscribable(e) ? eventText(e) : undefined }, e)]),
      ),
      h("p.muted.small", {}, ...sentence("wh.created", "when", when(endpoint.created_at))),
    ]);
    notice.replaceChildren();
    const cause = disabledBy(endpoint);
    if (cause) {
      const enable = h("button.primary", { type: "button", dataset: { testid: "webhook-enable" } }, t("wh.enable"));
      enable.addEventListener("click", () => void setEnabled(true, enable));
      notice.append(
        h(
          "div.notice-box.webhook-off",
          { dataset: { testid: "webhook-disabled", cause } },
          h("p", {}, h("strong", {}, t(cause === "owner" ? "wh.disabledby.owner" : "wh.disabledby.failures"))),
          cause === "failures" && endpoint.disabled_reason ? h("p.small", { dataset: { testid: "webhook-disabled-reason" } }, ...sentence("wh.disabledreason", "reason", h("bdi", { dir: "ltr" }, endpoint.disabled_reason))) : null,
          endpoint.disabled_at ? h("p.muted.small", {}, ...sentence("wh.disabledsince", "when", when(endpoint.disabled_at, true))) : null,
          h("div.form-actions", {}, enable),
        ),
      );
    } else if (endpoint.failing_since) {
      notice.append(h("div.notice-box.webhook-failing", { dataset: { testid: "webhook-failing" } }, h("p", {}, ...sentence("wh.failing", "when", when(endpoint.failing_since, true)))));
    }
    if (endpoint.previous_secret_until) {
      notice.append(h("p.muted.small", { dataset: { testid: "webhook-previous" } }, ...sentence("wh.previous", "when", when(endpoint.previous_secret_until, true))));
    }
    actions.setAttribute("aria-label", t("wh.actionslabel", { url: endpoint.url }));
    disable.hidden = !endpoint.enabled;
    ping.disabled = !endpoint.enabled;
  };

  const update = (next: Endpoint) => {
    // Unchanged: nothing is drawn again (the keyboard stays where it is).
    if (JSON.stringify(next) === JSON.stringify(endpoint)) return;
    const was = endpoint.enabled;
    endpoint = next;
    draw();
    log.changed(was !== next.enabled);
  };

  /** Asks for the endpoint again (after its deliveries moved: it may be failing, or back). */
  const refreshEndpoint = async () => {
    try {
      update(await get("/api/v1/webhooks/{id}", { path: { id: endpoint.id } }));
    } catch {
      // Shown as it was; asked again when the log next moves.
    }
  };

  const setEnabled = async (on: boolean, button: HTMLButtonElement) => {
    button.disabled = true;
    announce("");
    try {
      update(await call("patch", "/api/v1/webhooks/{id}", { path: { id: endpoint.id }, body: { enabled: on } }));
      announce(t(on ? "wh.enabledmessage" : "wh.disabledmessage"));
      (on ? disable : notice.querySelector<HTMLElement>("[data-testid=webhook-enable]"))?.focus();
    } catch (e) {
      announce(webhookRefusalText(e), true);
    } finally {
      button.disabled = false;
    }
  };

  disable.addEventListener("click", () => {
    void confirmDialog(t("wh.confirm.disable.title"), t("wh.confirm.disable", { url: endpoint.url }), t("wh.disable"), "webhook-confirm", true).then((yes) => {
      if (yes) void setEnabled(false, disable);
    });
  });

  ping.addEventListener("click", () => {
    ping.disabled = true;
    announce("");
    call("post", "/api/v1/webhooks/{id}/ping", { path: { id: endpoint.id } })
      .then((d) => {
        log.add(d);
        announce(t("wh.pinged"));
      })
      .catch((e: unknown) => announce(webhookRefusalText(e), true))
      .finally(() => {
        ping.disabled = !endpoint.enabled;
      });
  });

  const showSecret = (made: EndpointWithSecret, rotated: boolean) => {
    const { secret, ...rest } = made;
    update(rest);
    const box = secretBox(secret, rotated, () => heading.focus());
    secretHost.replaceChildren(box);
    box.querySelector<HTMLInputElement>("[data-testid=webhook-secret]")?.focus();
  };

  rotate.addEventListener("click", () => {
    void confirmDialog(t("wh.confirm.rotate.title"), t("wh.confirm.rotate", { url: endpoint.url }), t("wh.rotate"), "webhook-confirm").then((yes) => {
      if (!yes) return;
      rotate.disabled = true;
      announce("");
      call("post", "/api/v1/webhooks/{id}/rotate", { path: { id: endpoint.id } })
        .then((made) => showSecret(made, true))
        .catch((e: unknown) => announce(webhookRefusalText(e), true))
        .finally(() => {
          rotate.disabled = false;
        });
    });
  });

  remove.addEventListener("click", () => {
    void confirmDialog(t("wh.confirm.delete.title"), t("wh.confirm.delete", { url: endpoint.url }), t("wh.delete"), "webhook-confirm", true).then((yes) => {
      if (!yes) return;
      remove.disabled = true;
      call("delete", "/api/v1/webhooks/{id}", { path: { id: endpoint.id } })
        .then(() => {
          log.stop();
          el.remove();
          removed(endpoint.url);
        })
        .catch((e: unknown) => {
          remove.disabled = false;
          announce(webhookRefusalText(e), true);
        });
    });
  });

  const closeEdit = () => {
    editHost.hidden = true;
    editHost.replaceChildren();
    edit.setAttribute("aria-expanded", "false");
    edit.focus();
  };
  edit.addEventListener("click", () => {
    if (!editHost.hidden) {
      closeEdit();
      return;
    }
    const f = endpointForm({ endpoint, admin, submit: t("wh.save"), cancel: closeEdit });
    f.form.addEventListener("submit", (e) => {
      e.preventDefault();
      f.clear();
      const events = f.events();
      if (!events) return;
      const v = f.values();
      const patch: EndpointPatch = {};
      if (v.url !== endpoint.url) patch.url = v.url;
      if (v.description !== endpoint.description) patch.description = v.description;
      if (!sameEvents(events, endpoint.events)) patch.events = events;
      if (!Object.keys(patch).length) {
        closeEdit();
        return;
      }
      f.save.disabled = true;
      call("patch", "/api/v1/webhooks/{id}", { path: { id: endpoint.id }, body: patch })
        .then((next) => {
          update(next);
          closeEdit();
          announce(t("wh.saved"));
        })
        .catch((err: unknown) => f.refused(err))
        .finally(() => {
          f.save.disabled = false;
        });
    });
    editHost.replaceChildren(h("h4.webhook-edit-title", {}, t("wh.edittitle")), f.form);
    editHost.hidden = false;
    edit.setAttribute("aria-expanded", "true");
    f.url.focus();
  });

  draw();
  return { el, log, showSecret, stop: () => log.stop() };
}

export const webhooksPage: PageFn = async (root) => {
  const page = h("div.settings-page.webhooks-page", {}, h("h1.page-title", {}, t("wh.title")));
  root.append(page);
  const user = await currentUser();
  if (!user) {
    page.append(h("p.notice", {}, h("a", { href: "/login?next=/settings/webhooks", dataset: { testid: "webhook-signin" } }, t("wh.signin"))));
    return;
  }
  const admin = isAdmin(user);
  const cards = new Map<string, ReturnType<typeof endpointCard>>();
  const listHeading = h("h2#wh-list-title", { tabIndex: -1 }, t("wh.list"));
  const list = h("div.webhook-list", { dataset: { testid: "webhook-list" } });
  const empty = h("p.muted", { hidden: true, dataset: { testid: "webhook-empty" } }, t("wh.empty"));
  const pageStatus = h("p.form-message", { role: "status", hidden: true, dataset: { testid: "webhook-page-status" } });
  const showEmpty = () => {
    empty.hidden = cards.size > 0;
  };
  const addCard = (e: Endpoint) => {
    const card = endpointCard(e, admin, (url) => {
      cards.delete(e.id);
      showEmpty();
      say(pageStatus, t("wh.deleted", { url }));
      listHeading.focus();
    });
    cards.set(e.id, card);
    list.append(card.el);
    showEmpty();
    return card;
  };

  const f = endpointForm({ admin, submit: t("wh.create") });
  f.form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    f.clear();
    say(pageStatus, "");
    const events = f.events();
    if (!events) return;
    const v = f.values();
    const body: NewEndpoint = { url: v.url, events };
    if (v.description) body.description = v.description;
    if (v.allUsers) body.all_users = true;
    f.save.disabled = true;
    call("post", "/api/v1/webhooks", { body })
      .then((made) => {
        f.reset();
        const card = addCard(made);
        card.showSecret(made, false);
        card.log.open();
      })
      .catch((err: unknown) => f.refused(err))
      .finally(() => {
        f.save.disabled = false;
      });
  });

  append(page, [
    h("p.muted", {}, t("wh.intro")),
    h("p", {}, h("a.webhooks-link", { href: "/settings", dataset: { testid: "webhook-back" } }, t("wh.back"))),
    h("section.settings-section", { "aria-labelledby": "wh-list-title", dataset: { testid: "webhook-endpoints" } }, listHeading, pageStatus, empty, list),
    h("section.settings-section", { "aria-labelledby": "wh-add-title", dataset: { testid: "webhook-add" } }, h("h2#wh-add-title", {}, t("wh.add")), f.form),
  ]);
  try {
    const { items } = await get("/api/v1/webhooks");
    items.forEach(addCard);
    // One endpoint: its log at once.
    if (items.length === 1) cards.get(items[0].id)?.log.open();
    showEmpty();
  } catch (e) {
    say(pageStatus, webhookRefusalText(e), true);
  }
  return () => cards.forEach((c) => c.stop());
};
