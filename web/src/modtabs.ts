// The tabs of the moderators' pages: the review queue, held comments and playlists, import
// batches, reports, the record, and
// for administrators the users.
import { isAdmin, type User } from "./api";
import { h } from "./dom";
import { t, type Key } from "./i18n";

export type ModTab = "videos" | "comments" | "playlists" | "batches" | "reports" | "log" | "users";

const TABS: { id: ModTab; href: string; label: Key; admin?: boolean }[] = [
  { id: "videos", href: "/moderation", label: "mod.videos" },
  { id: "comments", href: "/moderation?tab=comments", label: "mod.comments" },
  { id: "playlists", href: "/moderation?tab=playlists", label: "mod.playlists" },
  { id: "batches", href: "/moderation?tab=batches", label: "mod.batches" },
  { id: "reports", href: "/moderation/reports", label: "mod.reports" },
  { id: "log", href: "/moderation/log", label: "mod.log" },
  { id: "users", href: "/admin/users", label: "admin.users", admin: true },
];

export function modTabs(current: ModTab, user: User | null): HTMLElement {
  return h(
    "nav.tabs.scroll-tabs",
    {},
    TABS.filter((x) => !x.admin || isAdmin(user)).map((x) =>
      h("a.tab", { href: x.href, "aria-current": x.id === current ? "page" : undefined, dataset: { testid: `mod-tab-${x.id}` } }, t(x.label)),
    ),
  );
}
