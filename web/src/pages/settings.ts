// Settings (/settings): the interface's language and the language of my videos (both kept on
// my account, see prefs.ts), my profile (name shown, about me, e-mail with its checked state and a
// check mail on request), my password, my sessions (the current one marked, the others
// revoked one by one; tokens made for scripts and other systems with their kind and scopes), a
// form that makes such a token (shown once, with a copy button), a link to my webhooks
// (/settings/webhooks), my watch history's pause, the users I blocked, and deleting my account.
import { call, currentUser, forgetMe, get, logout, serverFeatures, setToken, type Blocked, type Me, type NewToken, type Session } from "../api";
import { h } from "../dom";
import { dateTime, formatBytes, timeAgo } from "../format";
import { isLang, LANG_NAMES, langChoice, LANGS, setLangChoice, t, videoLanguage, videoLanguageChoices } from "../i18n";
import { passwordLimits, tokenLimits } from "../limits";
import { problemText, SCOPES, scopeText, sessionKindText, type Scope } from "../messages";
import { copyRow } from "../share";
import { saveLanguage, saveVideoLanguage } from "../prefs";
import { navigate, type PageFn } from "../router";

/** A section of the settings page with its heading. */
const section = (title: string, testid: string, ...children: (Node | null)[]) => h("section.settings-section", { dataset: { testid } }, h("h2", {}, title), ...children);

/** A line that says how a form went: its words, marked as an error or not. */
function say(el: HTMLElement, text: string, error = false): void {
  el.textContent = text;
  el.classList.toggle("error", error);
  el.hidden = !text;
}

/** The interface's language (the header's switch too; "follow the browser" as on a first
 * visit) and the one my uploads start with, both kept on my account (and in this browser). */
function languages(me: Me): HTMLElement {
  const message = h("div.form-message", { role: "status", hidden: true, dataset: { testid: "language-message" } });
  const chosen = isLang(me.ui_language) ? me.ui_language : langChoice();
  const ui = h(
    "select",
    { name: "interface-language", dataset: { testid: "settings-lang" } },
    h("option", { value: "", selected: !chosen }, t("settings.followbrowser")),
    ...LANGS.map((l) => h("option", { value: l, lang: l, selected: l === chosen }, LANG_NAMES[l])),
  );
  // Saved on the account first; then the whole page redraws itself in the new language.
  ui.addEventListener("change", () => {
    const l = isLang(ui.value) ? ui.value : null;
    ui.disabled = true;
    say(message, "");
    saveLanguage(l)
      .then(() => setLangChoice(l))
      .catch((e: unknown) => {
        ui.value = chosen ?? "";
        say(message, problemText(e), true);
      })
      .finally(() => {
        ui.disabled = false;
      });
  });
  const mine = me.video_language || videoLanguage();
  const videos = h(
    "select",
    { name: "video-language", dataset: { testid: "settings-video-lang" } },
    h("option", { value: "" }, t("language.none")),
    ...videoLanguageChoices(undefined, mine).map((c) => h("option", { value: c.tag, selected: c.tag === mine }, c.name)),
  );
  let saved = mine;
  videos.addEventListener("change", () => {
    videos.disabled = true;
    say(message, "");
    saveVideoLanguage(videos.value)
      .then(() => {
        saved = videos.value;
        say(message, t("channel.saved"));
      })
      .catch((e: unknown) => {
        videos.value = saved;
        say(message, problemText(e), true);
      })
      .finally(() => {
        videos.disabled = false;
      });
  });
  return section(
    t("settings.language"),
    "settings-language",
    h(
      "div.channel-form",
      {},
      h("label", {}, t("settings.interface"), ui, h("span.muted.hint", {}, t("settings.interfacehint"))),
      h("label", {}, t("settings.videolanguage"), videos, h("span.muted.hint", {}, t("settings.videolanguagehint"))),
      message,
    ),
  );
}

function profile(me: Me, mail: boolean): HTMLElement {
  const name = h("input", { name: "display_name", value: me.display_name, placeholder: me.username, maxLength: 100, dataset: { testid: "profile-name" } });
  const bio = h("textarea", { name: "bio", rows: 3, maxLength: 1000, dataset: { testid: "profile-bio" } });
  bio.value = me.bio;
  const email = h("input", { name: "email", type: "email", value: me.email, required: true, autocomplete: "email", dataset: { testid: "profile-email" } });
  const state = h("span.pill", { dataset: { testid: "email-state" } });
  const check = h("button.small", { type: "button", dataset: { testid: "email-check" } }, t("settings.sendcheck"));
  const message = h("div.form-message", { role: "status", hidden: true, dataset: { testid: "profile-message" } });
  const showState = (verified: boolean) => {
    state.textContent = verified ? t("settings.verified") : t("settings.unverified");
    state.classList.toggle("ok", verified);
    check.hidden = verified || !mail;
  };
  showState(me.email_verified);
  check.addEventListener("click", () => {
    check.disabled = true;
    call("post", "/api/v1/me/email/verification")
      .then(() => say(message, t("settings.checksent", { email: me.email })))
      .catch((e: unknown) => say(message, problemText(e), true))
      .finally(() => {
        check.disabled = false;
      });
  });
  const save = h("button.primary", { type: "submit", dataset: { testid: "profile-save" } }, t("channel.save"));
  const form = h(
    "form.channel-form",
    {},
    h("label", {}, t("settings.name"), name, h("span.muted.hint", {}, t("settings.namehint", { username: me.username }))),
    h("label", {}, t("settings.bio"), bio),
    h("label", {}, h("span.label-row", {}, t("auth.email"), state, check), email),
    h("div.form-actions", {}, save),
    message,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    save.disabled = true;
    const patch: { display_name?: string; bio?: string; email?: string } = {};
    if (name.value.trim() !== me.display_name) patch.display_name = name.value.trim();
    if (bio.value !== me.bio) patch.bio = bio.value;
    if (email.value.trim() !== me.email) patch.email = email.value.trim();
    call("patch", "/api/v1/me", { body: patch })
      .then((updated) => {
        me = updated;
        forgetMe();
        showState(updated.email_verified);
        say(message, patch.email && mail ? t("settings.savedcheck", { email: updated.email }) : t("channel.saved"));
      })
      .catch((err: unknown) => say(message, problemText(err), true))
      .finally(() => {
        save.disabled = false;
      });
  });
  return section(t("settings.profile"), "settings-profile", form, h("p.muted.small", {}, t("settings.storage", { used: formatBytes(me.storage_used_bytes), quota: me.quota_bytes === null || me.quota_bytes === undefined ? "∞" : formatBytes(me.quota_bytes) })));
}

function password(changed: () => void): HTMLElement {
  const current = h("input", { type: "password", name: "current-password", autocomplete: "current-password", required: true, dataset: { testid: "password-current" } });
  const next = h("input", { type: "password", name: "new-password", autocomplete: "new-password", required: true, minLength: passwordLimits.min, maxLength: passwordLimits.max, dataset: { testid: "password-new" } });
  const message = h("div.form-message", { role: "status", hidden: true, dataset: { testid: "password-message" } });
  const save = h("button.primary", { type: "submit", dataset: { testid: "password-save" } }, t("settings.changepassword"));
  const form = h(
    "form.channel-form",
    {},
    h("label", {}, t("settings.currentpassword"), current),
    h("label", {}, t("settings.newpassword"), next, h("span.muted.hint", {}, t("settings.passwordhint", { n: passwordLimits.min }))),
    h("div.form-actions", {}, save),
    message,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    save.disabled = true;
    call("post", "/api/v1/me/password", { body: { current_password: current.value, new_password: next.value } })
      .then(() => {
        current.value = "";
        next.value = "";
        say(message, t("settings.passwordchanged"));
        // The other sessions were signed out.
        changed();
      })
      .catch((err: unknown) => say(message, problemText(err), true))
      .finally(() => {
        save.disabled = false;
      });
  });
  return section(t("settings.password"), "settings-password", form);
}

function sessions(): { el: HTMLElement; load: () => void } {
  const list = h("ul.session-list", { dataset: { testid: "sessions" } });
  const error = h("div.error", { role: "alert", hidden: true });
  const item = (s: Session) => {
    const made = s.kind === "personal" || s.kind === "integration";
    const revoke = h("button.small.danger", { type: "button", "aria-label": `${made ? t("token.revoke") : s.current ? t("nav.logout") : t("settings.revoke")}: ${s.name || t("settings.session")}`, dataset: { testid: "session-revoke" } }, made ? t("token.revoke") : s.current ? t("nav.logout") : t("settings.revoke"));
    revoke.addEventListener("click", () => {
      if (s.current) {
        void logout().finally(() => navigate("/"));
        return;
      }
      call("delete", "/api/v1/me/sessions/{id}", { path: { id: s.id } })
        .then(() => el.remove())
        .catch((e: unknown) => say(error, problemText(e), true));
    });
    const el = h(
      "li.session",
      { dataset: { testid: "session", current: String(s.current) } },
      h(
        "div",
        {},
        h("strong", {}, h("bdi", {}, s.name || t("settings.session"))),
        s.current ? h("span.pill.ok", { dataset: { testid: "session-current" } }, t("settings.thisdevice")) : null,
        h("span.pill", { dataset: { testid: "session-kind", kind: s.kind } }, sessionKindText(s.kind)),
        made ? null : h("div.muted.small.session-agent", {}, s.user_agent),
        s.scopes ? h("div.small.session-scopes", { dataset: { testid: "session-scopes" } }, t("settings.scopes", { scopes: s.scopes.map(scopeText).join(", ") })) : null,
        h(
          "div.muted.small",
          {},
          t("settings.signedin", { when: timeAgo(s.created_at) }),
          s.last_used_at ? ` · ${t("settings.lastused", { when: timeAgo(s.last_used_at) })}` : "",
          made ? ` · ${t("settings.expires", { when: dateTime(s.expires_at) })}` : "",
        ),
      ),
      revoke,
    );
    return el;
  };
  const load = () => {
    get("/api/v1/me/sessions")
      .then((answer) => list.replaceChildren(...answer.items.map(item)))
      .catch((e: unknown) => say(error, problemText(e), true));
  };
  load();
  return { el: section(t("settings.sessions"), "settings-sessions", list, error), load };
}

/** The scopes a token of `me` may be given: moderation and administration only to those who
 * may do them. */
export function offeredScopes(role: Me["role"]): Scope[] {
  return SCOPES.filter((s) => (s === "moderate" ? role === "moderator" || role === "admin" : s === "admin" ? role === "admin" : true));
}

/** Makes a token for scripts or another system: a name, its kind, what it may do and for how
 * many days. The token is shown once, with a copy button; the list above gets its row. */
function tokens(me: Me, made: () => void): HTMLElement {
  const name = h("input", { name: "token-name", required: true, minLength: tokenLimits.name.min, maxLength: tokenLimits.name.max, autocomplete: "off", dataset: { testid: "token-name" } });
  const kind = (value: "personal" | "integration", checked: boolean) =>
    h("label.inline-label", {}, h("input", { type: "radio", name: "token-kind", value, checked, dataset: { testid: `token-kind-${value}` } }), t(value === "personal" ? "token.personal" : "token.integration"));
  const boxes = offeredScopes(me.role).map((scope) => ({
    scope,
    box: h("input", { type: "checkbox", name: "token-scope", value: scope, checked: scope === "read", dataset: { testid: `token-scope-${scope}` } }),
  }));
  const days = h("input", { type: "number", name: "token-days", required: true, min: tokenLimits.days.min, max: tokenLimits.days.max, value: 365, inputMode: "numeric", dataset: { testid: "token-days" } });
  const save = h("button.primary", { type: "submit", dataset: { testid: "token-make" } }, t("token.make"));
  const message = h("div.form-message", { role: "status", hidden: true, dataset: { testid: "token-message" } });
  const shown = h("div.token-made", { hidden: true, dataset: { testid: "token-made" } });
  const form = h(
    "form.channel-form",
    {},
    h("p.muted.small", {}, t("token.hint")),
    h("label", {}, t("token.name"), name, h("span.muted.hint", {}, t("token.namehint"))),
    h("fieldset", {}, h("legend", {}, t("token.kind")), kind("personal", true), kind("integration", false)),
    h(
      "fieldset",
      {},
      h("legend", {}, t("token.scopes")),
      h("ul.scope-list", {}, ...boxes.map(({ scope, box }) => h("li", {}, h("label.inline-label", {}, box, h("code", { dir: "ltr" }, scope), " — ", scopeText(scope))))),
    ),
    h("label", {}, t("token.days"), days),
    h("div.form-actions", {}, save),
    message,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const scopes = boxes.filter((b) => b.box.checked).map((b) => b.scope);
    if (!scopes.length) {
      say(message, t("token.noscope"), true);
      boxes[0]?.box.focus();
      return;
    }
    const chosen = form.querySelector<HTMLInputElement>("input[name=token-kind]:checked")?.value === "integration" ? "integration" : "personal";
    const body: NewToken = { name: name.value.trim(), kind: chosen, scopes, expires_in_days: Number(days.value) };
    save.disabled = true;
    say(message, "");
    call("post", "/api/v1/me/tokens", { body })
      .then((token) => {
        const field = h("input.token-value", { readOnly: true, value: token.token, autocomplete: "off", spellcheck: false, dir: "ltr", "aria-label": t("token.value"), dataset: { testid: "token-value" } });
        shown.replaceChildren(h("p", { role: "alert", dataset: { testid: "token-warning" } }, t("token.made", { name: token.name })), copyRow(field, t("token.value"), "token"));
        shown.hidden = false;
        name.value = "";
        field.focus();
        made();
      })
      .catch((err: unknown) => say(message, problemText(err), true))
      .finally(() => {
        save.disabled = false;
      });
  });
  return section(t("token.title"), "settings-tokens", shown, form);
}

/** Where webhooks are managed: endpoints that hear what happens to my videos. */
function webhooks(): HTMLElement {
  return section(
    t("settings.webhooks"),
    "settings-webhooks",
    h("p.muted.small", {}, t("settings.webhookshint")),
    h("p", {}, h("a.webhooks-link", { href: "/settings/webhooks", dataset: { testid: "settings-webhooks-link" } }, t("settings.webhookslink"))),
  );
}

function historyPause(me: Me): HTMLElement {
  let paused = me.history_paused;
  const box = h("input", { type: "checkbox", checked: paused, dataset: { testid: "settings-history-paused" } });
  const error = h("div.error", { role: "alert", hidden: true });
  box.addEventListener("change", () => {
    box.disabled = true;
    call("put", "/api/v1/me/history/paused", { body: { paused: box.checked } })
      .then((answer) => {
        paused = answer.paused;
        forgetMe();
      })
      .catch((e: unknown) => {
        box.checked = paused;
        say(error, problemText(e), true);
      })
      .finally(() => {
        box.disabled = false;
      });
  });
  return section(
    t("history.title"),
    "settings-history",
    h("label.check", {}, box, t("settings.pausehistory")),
    h("p.muted.small", {}, t("history.pausednote"), " ", h("a", { href: "/history" }, t("settings.openhistory"))),
    error,
  );
}

function blocks(): HTMLElement {
  const list = h("ul.block-list", { dataset: { testid: "blocks" } });
  const status = h("p.muted");
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  let cursor: string | undefined;
  const item = (b: Blocked) => {
    const unblock = h("button.small", { type: "button", dataset: { testid: "unblock" } }, t("block.undo"));
    const el = h("li.block", { dataset: { testid: "blocked", username: b.username } }, h("span", {}, h("strong", { dir: "auto" }, b.username), " ", h("span.muted.small", {}, timeAgo(b.blocked_at))), unblock);
    unblock.addEventListener("click", () => {
      call("delete", "/api/v1/me/blocks/{username}", { path: { username: b.username } })
        .then(() => {
          el.remove();
          status.textContent = list.childElementCount ? "" : t("block.none");
        })
        .catch((e: unknown) => (status.textContent = problemText(e)));
    });
    return el;
  };
  const load = async () => {
    try {
      const page = await get("/api/v1/me/blocks", { query: { cursor, limit: 50 } });
      list.append(...page.items.map(item));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      status.textContent = list.childElementCount ? "" : t("block.none");
    } catch (e) {
      status.textContent = problemText(e);
    }
  };
  more.addEventListener("click", () => void load());
  void load();
  return section(t("block.title"), "settings-blocks", h("p.muted.small", {}, t("block.explain")), list, status, more);
}

function deletion(me: Me): HTMLElement {
  const confirmName = h("input", { name: "confirm", autocomplete: "off", placeholder: me.username, "aria-label": t("settings.deleteusername"), dataset: { testid: "delete-username" } });
  const pass = h("input", { type: "password", name: "password", autocomplete: "current-password", "aria-label": t("auth.password"), placeholder: t("auth.password"), dataset: { testid: "delete-password" } });
  const del = h("button.danger", { type: "button", disabled: true, dataset: { testid: "account-delete" } }, t("settings.delete"));
  const message = h("div.error", { role: "alert", hidden: true, dataset: { testid: "account-delete-error" } });
  const ready = () => {
    del.disabled = confirmName.value.trim() !== me.username || !pass.value;
  };
  confirmName.addEventListener("input", ready);
  pass.addEventListener("input", ready);
  del.addEventListener("click", () => {
    del.disabled = true;
    call("post", "/api/v1/me/deletion", { body: { password: pass.value, confirm: confirmName.value.trim() } })
      .then(() => {
        setToken(null);
        navigate("/");
      })
      .catch((e: unknown) => {
        say(message, problemText(e), true);
        ready();
      });
  });
  return h(
    "details.danger-zone",
    { dataset: { testid: "settings-delete" } },
    h("summary", {}, t("settings.delete")),
    h("p", {}, t("settings.deletewarning", { username: me.username })),
    h("div.form-actions", {}, confirmName, pass, del),
    message,
  );
}

export const settings: PageFn = async (root) => {
  if (!(await currentUser())) {
    navigate("/login?next=/settings", true);
    return;
  }
  let me: Me;
  let mail: boolean;
  try {
    [me, { mail }] = await Promise.all([get("/api/v1/me"), serverFeatures()]);
  } catch (e) {
    root.append(h("p.notice", {}, problemText(e)));
    return;
  }
  const mine = sessions();
  root.append(
    h(
      "div.settings-page",
      {},
      h("h1.page-title", {}, t("settings.title")),
      languages(me),
      profile(me, mail),
      password(mine.load),
      mine.el,
      tokens(me, mine.load),
      webhooks(),
      historyPause(me),
      blocks(),
      deletion(me),
    ),
  );
};
