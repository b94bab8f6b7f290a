// Administrators' users (/admin/users): found by the start of their name or address and by
// standing; each one's role, verified mark (their uploads skip review) and storage quota,
// and warn, suspend, ban or reinstate them.
import { call, currentUser, get, isAdmin, type AdminUser, type Role, type Standing } from "../api";
import { h } from "../dom";
import { dateTime, formatBytes, timeAgo } from "../format";
import { t, type Key } from "../i18n";
import { problemText } from "../messages";
import { modTabs } from "../modtabs";
import { navigate, type PageFn } from "../router";
import { decisionForm, isRole, roleChoices, roleLabel } from "./reports";

const STANDINGS: Record<Standing, Key> = { active: "admin.standing.active", suspended: "admin.standing.suspended", banned: "admin.standing.banned" };
const isStanding = (v: unknown): v is Standing => typeof v === "string" && Object.hasOwn(STANDINGS, v);
const GIB = 1024 ** 3;

/** A quota typed in GiB (empty: the server's default; 0: no limit) as the bytes the API takes. */
export function quotaBytes(text: string): number | null | undefined {
  const s = text.trim().replace(",", ".");
  if (!s) return null;
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) return undefined;
  return Math.round(n * GIB);
}

function userRow(u0: AdminUser, me: string): HTMLElement {
  let u = u0;
  const error = h("div.error", { role: "alert", hidden: true });
  const fail = (e: unknown) => {
    error.textContent = problemText(e);
    error.hidden = false;
  };
  const update = async (body: { role?: Role; verified?: boolean; quota_bytes?: number | null }) => {
    error.hidden = true;
    u = await call("patch", "/api/v1/admin/users/{id}", { path: { id: u.id }, body });
    draw();
  };
  const el = h("div.mod-item.user-item", { dataset: { testid: "admin-user", username: u.username, id: u.id } });
  const draw = () => {
    const role = h(
      "select",
      { "aria-label": t("admin.role"), disabled: u.id === me, dataset: { testid: "user-role" } },
      ...roleChoices.map((r) => h("option", { value: r, selected: r === u.role }, roleLabel(r))),
    );
    role.addEventListener("change", () => {
      if (isRole(role.value)) update({ role: role.value }).catch((e: unknown) => (fail(e), draw()));
    });
    const verified = h("input", { type: "checkbox", checked: u.verified, dataset: { testid: "user-verified" } });
    verified.addEventListener("change", () => void update({ verified: verified.checked }).catch((e: unknown) => (fail(e), draw())));
    const quota = h("input.quota", {
      inputMode: "decimal",
      value: u.quota_bytes === null || u.quota_bytes === undefined ? "" : String(Math.round((u.quota_bytes / GIB) * 100) / 100),
      placeholder: t("admin.quotadefault"),
      "aria-label": t("admin.quota"),
      dataset: { testid: "user-quota" },
    });
    const setQuota = h("button.small", { type: "button", dataset: { testid: "user-quota-save" } }, t("channel.save"));
    setQuota.addEventListener("click", () => {
      const bytes = quotaBytes(quota.value);
      if (bytes === undefined) return fail(new Error(t("admin.quotainvalid")));
      update({ quota_bytes: bytes }).catch(fail);
    });
    const quotaNow = u.effective_quota_bytes === null || u.effective_quota_bytes === undefined ? "∞" : formatBytes(u.effective_quota_bytes);
    el.replaceChildren(
      h(
        "div.mod-meta",
        {},
        h(
          "div.case-head",
          {},
          h("strong", { dir: "auto", dataset: { testid: "user-name" } }, u.username),
          u.display_name && u.display_name !== u.username ? h("span.muted", { dir: "auto" }, u.display_name) : null,
          h(`span.pill.standing.${u.standing}`, { dataset: { testid: "user-standing" } }, t(STANDINGS[u.standing])),
          u.leaving ? h("span.pill", {}, t("admin.leaving")) : null,
        ),
        h("div.muted.small", {}, u.email, " ", u.email_verified ? "✓" : "", " · ", t("admin.joined", { when: timeAgo(u.created_at) }), u.suspended_until ? ` · ${t("mod.until", { when: dateTime(u.suspended_until) })}` : ""),
        h(
          "div.user-controls",
          {},
          h("label.inline-label", {}, t("admin.role"), role),
          h("label.inline-label", {}, verified, t("admin.verified")),
          h("label.inline-label", {}, t("admin.quota"), quota, t("admin.gib"), setQuota),
          h("span.muted.small", {}, t("admin.used", { used: formatBytes(u.storage_used_bytes), quota: quotaNow })),
        ),
        u.id === me
          ? null
          : decisionForm(
              ["warn", "suspend", "ban", "reinstate"] as const,
              async (action, reason, days) => {
                await call("post", "/api/v1/moderation/users/{id}/sanctions", { path: { id: u.id }, body: { action, reason, days } });
                u = await refetch(u);
                draw();
              },
              "sanction",
            ),
        h("a.small", { href: `/moderation/log?subject=${encodeURIComponent(u.id)}` }, t("admin.record")),
        error,
      ),
    );
  };
  draw();
  return el;
}

/** The user again (their standing after a sanction): the first of a search by their name. */
async function refetch(u: AdminUser): Promise<AdminUser> {
  const page = await get("/api/v1/admin/users", { query: { q: u.username, limit: 100 } });
  return page.items.find((x) => x.id === u.id) ?? u;
}

export const adminUsers: PageFn = async (root, _p, url) => {
  root.append(h("h1.page-title", {}, t("admin.users")));
  const user = await currentUser();
  if (!isAdmin(user)) {
    root.append(h("p.notice", {}, t("admin.denied")));
    return;
  }
  root.append(modTabs("users", user));
  const q = url.searchParams.get("q") ?? "";
  const standing = url.searchParams.get("standing") ?? "";
  const search = h("input", { type: "search", value: q, placeholder: t("admin.search"), "aria-label": t("admin.search"), dataset: { testid: "user-search" } });
  const filter = h(
    "select",
    { "aria-label": t("admin.standing"), dataset: { testid: "user-standing-filter" } },
    h("option", { value: "" }, t("admin.allstandings")),
    ...Object.keys(STANDINGS).filter(isStanding).map((s) => h("option", { value: s, selected: s === standing }, t(STANDINGS[s]))),
  );
  const form = h("form.form-actions.user-search", { role: "search" }, search, filter, h("button", { type: "submit" }, t("search.placeholder")));
  const go = () => {
    const params = new URLSearchParams();
    if (search.value.trim()) params.set("q", search.value.trim());
    if (filter.value) params.set("standing", filter.value);
    const s = params.toString();
    navigate(`/admin/users${s ? `?${s}` : ""}`, true);
  };
  form.addEventListener("submit", (e) => (e.preventDefault(), go()));
  filter.addEventListener("change", go);
  const list = h("div.mod-list", { dataset: { testid: "admin-users" } });
  const status = h("div.list-status", {}, t("list.more"));
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  let cursor: string | undefined;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get("/api/v1/admin/users", { query: { q: q || undefined, standing: standing || undefined, cursor, limit: 24 } });
      list.append(...page.items.map((u) => userRow(u, user!.id)));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      status.textContent = list.childElementCount ? "" : t("admin.nousers");
    } catch (e) {
      status.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  root.append(form, list, status, more);
  await load();
};
