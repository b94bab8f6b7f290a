// "Download" on the watch page: the files the server made for a video (a progressive MP4, an
// M4A of its sound) as a small menu of links, each saying what it is and how big, offered only
// when the API lists some for this viewer (the owner allows downloads, or it is the owner's or
// an admin's own view). The links are the API's own (signed for a video that is not public);
// the server answers them as attachments.
import { ApiError, get, type Download } from "./api";
import { h } from "./dom";
import { formatBytes } from "./format";
import { icon } from "./icons";
import { lang, t, type Lang } from "./i18n";
import { closesItself } from "./safety";

/** A file as the menu names it: "Video (MP4, 720p, 48 MB)", "Audio only (M4A, 5.2 MB)". The
 * picture's size by its short side, as the player's quality menu names rungs (a vertical
 * 720×1280 video is "720p"). */
export function downloadLabel(d: Download, l: Lang = lang()): string {
  const size = formatBytes(d.size_bytes, l);
  if (d.kind === "m4a") return t("download.audio", { size }, l);
  const short = d.width && d.height ? Math.min(d.width, d.height) : d.height;
  return short ? t("download.video", { quality: `${short}p`, size }, l) : t("download.videoonly", { size }, l);
}

/** The video first, then the sound alone. */
export function sortDownloads(items: readonly Download[]): Download[] {
  const order = (d: Download) => (d.kind === "mp4" ? 0 : 1);
  return [...items].sort((a, b) => order(a) - order(b));
}

/** The files this viewer may download (none when the video is not downloadable for them). */
export async function listDownloads(id: string): Promise<Download[]> {
  try {
    return (await get("/api/v1/videos/{id}/downloads", { path: { id } })).items;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return [];
    throw e;
  }
}

/** The "Download" menu (a <details>, like the page's other menus: opens with Enter or Space,
 * the arrow keys, Home and End move between its links, Escape closes it with focus back on its
 * button); `null` when there is nothing to offer. */
export function downloadMenu(items: readonly Download[]): HTMLDetailsElement | null {
  if (!items.length) return null;
  const links = sortDownloads(items).map((d) =>
    h(
      "a.menu-item",
      { href: d.url, download: "", role: "menuitem", tabIndex: -1, dataset: { testid: `download-${d.kind}` } },
      downloadLabel(d),
    ),
  );
  const list = h("div.menu-list.download-list", { role: "menu", "aria-label": t("download.menu") }, links);
  const el = h(
    "details.menu.download-menu",
    { dataset: { testid: "download" } },
    h("summary.button.action.download-button", { "aria-haspopup": "menu", dataset: { testid: "download-button" } }, icon("download"), t("download.button")),
    list,
  );
  closesItself(el);
  // Open: wholly on screen (the list hangs from the button's end side, or from its start side
  // when that side has no room: a narrow screen wraps the button to either edge), and the first
  // file has focus, so the keyboard goes on from there.
  el.addEventListener("toggle", () => {
    if (!el.open) return;
    el.classList.remove("flip");
    const box = list.getBoundingClientRect();
    if (box.left < 0 || box.right > document.documentElement.clientWidth) el.classList.add("flip");
    links[0].focus();
  });
  // A choice closes the menu (the browser saves the file; the page stays).
  list.addEventListener("click", (e) => {
    if ((e.target as Element).closest(".menu-item")) el.open = false;
  });
  list.addEventListener("keydown", (e) => {
    const at = links.indexOf(document.activeElement as HTMLAnchorElement);
    let to: number;
    switch (e.key) {
      case "ArrowDown":
        to = (at + 1) % links.length;
        break;
      case "ArrowUp":
        to = (at - 1 + links.length) % links.length;
        break;
      case "Home":
        to = 0;
        break;
      case "End":
        to = links.length - 1;
        break;
      case "Tab":
        el.open = false;
        return;
      default:
        return;
    }
    e.preventDefault();
    links[to].focus();
  });
  return el;
}
