// The languages kept on the account (`ui_language`, `video_language` of /api/v1/me), so that
// signing in on another browser brings them back. This browser keeps a copy (localStorage,
// read before anything is asked); once signed in, each language the account has wins over the
// copy (the interface's is applied, my videos' is the one the upload form starts with).
import { call, currentUser, forgetMe, get, token, type Me, type User } from "./api";
import { isLang, lang, setLangChoice, setVideoLanguage, videoLanguage, type Lang } from "./i18n";

let adopted: { token: string; done: Promise<void> } | undefined;

/** The full account (the sign-in's answer names it without its settings). */
async function account(): Promise<Me | null> {
  const user: User | Me | null = await currentUser();
  if (!user) return null;
  // At start it is /api/v1/me's answer already (the sign-in's has no `email`).
  return typeof (user as Partial<Me>).email === "string" ? (user as Me) : get("/api/v1/me");
}

/** What the account's languages change here: each one the account has wins over this
 * browser's (the interface's only when it is not the one shown); `null`: leave it. */
export function accountLanguages(me: Pick<Me, "ui_language" | "video_language">, shown: Lang): { ui: Lang | null; video: string | null } {
  const ui = isLang(me.ui_language) && me.ui_language !== shown ? me.ui_language : null;
  return { ui, video: me.video_language || null };
}

/** Applies the signed-in account's languages, once per sign-in (every caller waits for the
 * same answer); nothing when signed out. */
export function adoptAccountLanguages(): Promise<void> {
  const t = token();
  if (!t) return Promise.resolve();
  if (adopted?.token !== t) {
    const done = account().then((me) => {
      if (!me || token() !== t) return;
      const { ui, video } = accountLanguages(me, lang());
      if (video) setVideoLanguage(video);
      if (ui) setLangChoice(ui);
    });
    adopted = { token: t, done: done.catch(() => {}) };
  }
  return adopted.done;
}

/** Saves the interface's language (`null`: follow the browser) on the account; rejects with
 * the server's problem. Nothing to save when signed out. */
export async function saveLanguage(l: Lang | null): Promise<void> {
  if (!token()) return;
  await call("patch", "/api/v1/me", { body: { ui_language: l } });
  forgetMe();
}

/** Saves the language of my videos (empty: none) here at once and on the account; rejects
 * with the server's problem (the copy here then goes back to what it was). */
export async function saveVideoLanguage(tag: string): Promise<void> {
  const before = videoLanguage();
  setVideoLanguage(tag);
  if (!token()) return;
  try {
    await call("patch", "/api/v1/me", { body: { video_language: tag || null } });
    forgetMe();
  } catch (e) {
    setVideoLanguage(before);
    throw e;
  }
}

/** The header's switch: shown at once, and kept on the account when signed in (a failure
 * leaves the choice in this browser: the settings page says what went wrong there). */
export function switchLanguage(l: Lang): void {
  setLangChoice(l);
  void saveLanguage(l).catch(() => {});
}
