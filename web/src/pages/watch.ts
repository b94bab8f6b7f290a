// The watch page: player (as soon as the video is playable, even while the rest of the ladder
// is still being made, starting where the viewer stopped last time), title, channel with its
// subscribe button, likes and dislikes, "Save" to playlists, reporting, views, date,
// description and the comments. Beside it (below it on a phone): the playlist being played
// (`?list=`: the current entry marked, the next one started at the end) and related videos,
// leaving out those watched earlier in this tab. `?t=` (seconds or "1m30s") starts the video
// there instead of where the viewer stopped. The chapters are listed under the video, each with
// its picture; "Share" opens the share dialog (link, at the current time with its picture,
// embed code); "Download" (when the owner allows it) lists the video's files and their sizes;
// the owner finds "Edit video" (subtitles, sharing settings) beside it; the player's theatre
// mode widens the page's layout (the stage over both columns), remembered for the next visit.
import { ApiError, call, currentUser, get, isAdmin, isModerator, myChannels, playback, type Playlist, type User, type Video } from "../api";
import { compactCard } from "../cards";
import { commentsSection } from "../comments";
import { downloadMenu, listDownloads } from "../downloads";
import { h } from "../dom";
import { timeAgo } from "../format";
import { icon } from "../icons";
import { t } from "../i18n";
import { chapterList, normalizeChapters, videoChapters } from "../chapters";
import { markWatched, nextInList, watchedInTab } from "../lists";
import { createPlayer, theatrePref, type Player } from "../player";
import { privacyLabel, statusLine } from "../messages";
import { inListHref, playlistHref, playlistTitle, requestAutoplay, saveDialog, takeAutoplay } from "../playlists";
import { resumeAt, trackPosition } from "../resume";
import { richText } from "../richtext";
import { navigate, type PageFn } from "../router";
import { menu, reportDialog } from "../safety";
import { parseStart, shareDialog } from "../share";
import { avatar, ratingButtons, subscribeButton, toLogin } from "../social";
import { stillsOf, type StillWidth } from "../stills";

/** How many entries of a playlist the side list reads (pages of 100). */
const LIST_MAX = 500;

/** A playlist and its entries in order (the first `LIST_MAX`). */
async function loadList(id: string): Promise<{ playlist: Playlist; items: Video[] }> {
  const playlist = await get("/api/v1/playlists/{id}", { path: { id } });
  const items: Video[] = [];
  let cursor: string | undefined;
  do {
    const page = await get("/api/v1/playlists/{id}/videos", { path: { id }, query: { cursor, limit: 100 } });
    items.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && items.length < LIST_MAX);
  return { playlist, items };
}

/** The side list of the playlist being played, the current entry marked and in view. */
function listPanel(list: { playlist: Playlist; items: Video[] }, current: string): HTMLElement {
  const { playlist, items } = list;
  const at = items.findIndex((v) => v.id === current);
  const entries = h("ol.list-entries", { dataset: { testid: "list-entries" } });
  items.forEach((v, i) => {
    const here = v.id === current;
    const link = compactCard(v, inListHref(v.id, playlist.id), h("span.list-index", {}, here ? "▶" : String(i + 1)));
    if (here) link.setAttribute("aria-current", "true");
    entries.append(h("li", { dataset: { testid: "list-entry", videoId: v.id } }, link));
  });
  const panel = h(
    "section.list-panel",
    { dataset: { testid: "list-panel" } },
    h(
      "header.list-head",
      {},
      h("a.list-title", { href: playlistHref(playlist.id) }, playlistTitle(playlist)),
      h("div.muted.small", {}, playlist.owner.username, " · ", at >= 0 ? `${at + 1} / ${items.length}` : t("playlist.count", { n: items.length })),
    ),
    entries,
  );
  // The current entry in view inside the list, once laid out.
  requestAnimationFrame(() => {
    const mark = entries.querySelector<HTMLElement>("[aria-current=true]");
    if (mark) entries.scrollTop = mark.offsetTop - entries.offsetTop - 8;
  });
  return panel;
}

/** Related videos, without the ones watched earlier in this tab; asked again once when the
 * worker has not worked them out yet (a video just listed). */
function relatedList(id: string, exclude: string[], stopped: () => boolean): HTMLElement {
  const list = h("div.related-list", { dataset: { testid: "related" } });
  const section = h("section.related", { hidden: true }, h("h2.side-title", {}, t("watch.related")), list);
  const load = async (again: boolean) => {
    try {
      const page = await get("/api/v1/videos/{id}/related", { path: { id }, query: { exclude: exclude.join(",") || undefined, limit: 12 } });
      if (stopped()) return;
      if (!page.items.length && again) return void setTimeout(() => void load(false), 2500);
      list.replaceChildren(...page.items.map((v) => compactCard(v)));
      section.hidden = !page.items.length;
    } catch {
      // Nothing beside the video.
    }
  };
  void load(true);
  return section;
}

export const watch: PageFn = async (root, [id], url) => {
  let v: Video;
  const listId = url.searchParams.get("list");
  let list: { playlist: Playlist; items: Video[] } | null = null;
  try {
    const [video, l] = await Promise.all([get("/api/v1/videos/{id}", { path: { id } }), listId ? loadList(listId).catch(() => null) : null]);
    v = video;
    list = l;
  } catch (e) {
    const gone = e instanceof ApiError && e.status === 404;
    root.append(h("p.notice", { dataset: { testid: "notfound" } }, gone ? t("video.notfound") : t("error.generic", { reason: (e as Error).message })));
    return;
  }
  const autoplay = takeAutoplay();
  const [user, mine] = await Promise.all([currentUser(), myChannels().catch(() => [])]);
  // The owner (or an admin) pins and sets who may comment; moderators approve and delete too.
  const owner = isAdmin(user) || mine.some((c) => c.id === v.channel.id);
  const reviewer = owner || isModerator(user);
  const stage = h("div.stage", {}, h("div.stage-wait", {}, v.images ? h("img", { src: v.images.poster, alt: "" }) : null));
  const progress = h("progress.progress", { max: 100, value: v.progress });
  const status = h("div.video-status", { dataset: { testid: "video-status" } });
  const views = h("span", {}, t("video.views", { n: v.views }));
  const channelHref = `/c/${encodeURIComponent(v.channel.handle)}`;
  // Out of the Tab order (the name beside it is the same link), but named for screen readers.
  const channelPicture = h("a.watch-avatar", { href: channelHref, tabIndex: -1, "aria-label": v.channel.display_name }, avatar(v.channel.display_name));
  const subscribers = h("div.muted.small", { dataset: { testid: "watch-subscribers" } });
  const subscribeSlot = h("div.subscribe-slot");
  let player: Player | null = null;
  let stopTracking: (() => void) | null = null;
  let stopped = false;
  // A time written in the description or a comment: the player goes there.
  const seek = (secs: number) => {
    if (!player) return;
    player.seek(secs);
    void player.video.play().catch(() => {});
    stage.scrollIntoView({ behavior: "smooth", block: "nearest" });
  };
  // `?t=` wins over where the viewer stopped last time.
  const askedStart = parseStart(url.searchParams.get("t"));
  const chapterData = videoChapters(v);
  const listed = normalizeChapters(chapterData, v.duration_secs ?? 0);
  const chapters = listed.length ? chapterList(listed, seek) : null;
  // Pictures at any time, signed like the poster the playback endpoint hands out (known once
  // the player starts: a video that cannot play has none).
  let stills: ((secs: number, width: StillWidth) => string) | null = null;
  const share = h(
    "button.action",
    {
      type: "button",
      dataset: { testid: "share" },
      onclick: () => shareDialog(v, player?.video.currentTime ?? askedStart ?? 0, location.origin, stills ? (secs) => stills!(secs, 320) : undefined),
    },
    t("share.button"),
  );
  // "Download", once the video is ready and when this viewer may (the API lists the files).
  const downloadSlot = h("span.menu-slot", { dataset: { testid: "download-slot" } });
  let downloadsAsked = false;
  const loadDownloads = () => {
    if (downloadsAsked) return;
    downloadsAsked = true;
    listDownloads(id)
      .then((items) => {
        if (!stopped) downloadSlot.replaceChildren(downloadMenu(items) ?? "");
      })
      .catch(() => {
        downloadsAsked = false;
      });
  };
  // The owner's way to the video's details (subtitles, sharing), as YouTube's "Edit video".
  const editLink = h("a.button.action", { href: `/me/videos/${encodeURIComponent(id)}`, dataset: { testid: "edit-video" } }, t("edit.open"));
  const comments = commentsSection({ video: v, user, owner, reviewer, seek });
  const save = h("button.action", { type: "button", dataset: { testid: "save" }, onclick: () => (user ? saveDialog(v.id) : toLogin()) }, icon("save"), t("playlist.save"));
  const more = menu("video-menu", [{ label: t("report.action"), testid: "video-report", run: () => (user ? reportDialog("video", v.id) : toLogin()) }]);
  // Related videos leave out those watched before this one in this tab.
  const exclude = watchedInTab().filter((x) => x !== id);
  markWatched(id);
  const side = h(
    "aside.watch-side",
    {},
    list ? listPanel(list, id) : null,
    relatedList(id, exclude, () => stopped),
  );
  const layout = h(
    "div.watch-layout",
    { dataset: { testid: "watch-layout" } },
    h("div.watch-stage", {}, stage),
    h(
      "div.watch.watch-main",
      {},
      h("h1.watch-title", { dataset: { testid: "watch-title" } }, v.title),
      h(
        "div.watch-bar",
        {},
        h(
          "div.watch-channel",
          {},
          channelPicture,
          h("div", {}, h("a.card-channel.watch-channel-name", { href: channelHref }, v.channel.display_name), subscribers),
          subscribeSlot,
        ),
        h("div.watch-actions", {}, ratingButtons(v, user), share, downloadSlot, save, owner ? editLink : null, more),
      ),
      h(
        "div.watch-meta",
        {},
        views,
        v.published_at ? ` · ${timeAgo(v.published_at)}` : ` · ${timeAgo(v.created_at)}`,
        v.privacy !== "public" ? h("span.pill", {}, privacyLabel(v.privacy)) : null,
      ),
      status,
      v.description ? h("p.description", { dataset: { testid: "watch-description" } }, richText(v.description, { seek, duration: v.duration_secs })) : null,
      chapters ? chapters.el : null,
    ),
    side,
    h("div.watch.watch-comments", {}, comments.el),
  );
  // Theatre mode as the viewer left it.
  layout.classList.toggle("theatre", theatrePref());
  root.append(layout);
  // The channel's picture, subscribers and whether I follow it.
  get("/api/v1/channels/{handle}", { path: { handle: v.channel.handle } })
    .then((c) => {
      channelPicture.replaceChildren(avatar(c.display_name, c.avatar));
      subscribers.textContent = t("channel.subscribers", { n: c.subscribers });
      const button = subscribeButton(c, user, (n) => {
        subscribers.textContent = t("channel.subscribers", { n });
      });
      if (button) subscribeSlot.replaceChildren(button);
    })
    .catch(() => {});

  let timer: ReturnType<typeof setTimeout> | undefined;
  let counted = false;
  const show = (video: Video) => {
    const line = statusLine(video);
    status.replaceChildren(line, video.status === "processing" ? progress : "");
    progress.value = video.progress;
    status.hidden = !line;
  };
  const stopPlayer = () => {
    stopTracking?.();
    stopTracking = null;
    player?.destroy();
    player = null;
  };
  // Asked for fresh links, the playback endpoint answered 404: the video was deleted or is no
  // longer visible to this viewer (made private, rejected). The page says what a reload would.
  const gone = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    stopPlayer();
    root.replaceChildren(h("p.notice", { dataset: { testid: "notfound" } }, t("video.notfound")));
  };
  const next = list ? nextInList(list.items.map((x) => x.id), id) : null;
  const startPlayer = async (u: User | null) => {
    const [pb, start] = await Promise.all([playback(id), askedStart ?? resumeAt(id, !!u)]);
    if (stopped) return;
    const at = stillsOf(id, pb.poster);
    stills = at;
    chapters?.stills((secs) => at(secs, 160));
    player = createPlayer(pb, {
      keyboard: true,
      onGone: gone,
      start,
      autoplay,
      chapters: chapterData,
      theatre: layout.classList.contains("theatre"),
      onTheatre: (on) => layout.classList.toggle("theatre", on),
    });
    stage.replaceChildren(player.el);
    const video = player.video;
    if (chapters) video.addEventListener("timeupdate", () => chapters.mark(video.currentTime));
    if (u) stopTracking = trackPosition(video, id);
    video.addEventListener("playing", () => {
      if (counted) return;
      counted = true;
      call("post", "/api/v1/videos/{id}/views", { path: { id } }).catch(() => {});
    });
    // The playlist goes on with its next entry.
    if (list && next) {
      const listed = list.playlist.id;
      video.addEventListener("ended", () => {
        if (stopped) return;
        requestAutoplay();
        navigate(inListHref(next, listed));
      });
    }
  };
  const poll = async () => {
    if (stopped) return;
    try {
      v = await get("/api/v1/videos/{id}", { path: { id } });
      show(v);
      if (v.status === "ready") loadDownloads();
      if (v.playable && !player) await startPlayer(user);
    } catch {
      // Try again on the next tick.
    }
    if (!stopped && v.status !== "ready" && v.status !== "failed") timer = setTimeout(() => void poll(), 1000);
  };
  show(v);
  if (v.status === "ready") loadDownloads();
  if (v.playable) await startPlayer(user).catch(() => {});
  if (v.status !== "ready" && v.status !== "failed") timer = setTimeout(() => void poll(), 1000);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    comments.destroy();
    stopPlayer();
  };
};
