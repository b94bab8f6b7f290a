// Interface strings in English and Russian. The language comes from the header switch (kept in
// localStorage), else from the browser's languages.

export type Lang = "en" | "ru";
const LANG_KEY = "kadr.lang";

const en = {
  "app.name": "Kadr",
  "nav.home": "Home",
  "nav.shorts": "Shorts",
  "nav.upload": "Upload",
  "nav.mine": "My videos",
  "nav.moderation": "Moderation",
  "nav.login": "Sign in",
  "nav.logout": "Sign out",
  "nav.register": "Register",
  "search.placeholder": "Search",
  "search.results": "Results for “{q}”",
  "search.none": "Nothing found for “{q}”.",
  "home.new": "New",
  "home.popular": "Popular",
  "list.empty": "No videos yet.",
  "list.more": "Loading…",
  "video.views": { one: "{n} view", few: "{n} views", many: "{n} views", other: "{n} views" },
  "video.processing": "Processing: {stage} {progress}%",
  "video.waiting": "Waiting to be processed",
  "video.failed": "Processing failed: {reason}",
  "video.pending": "Waiting for moderation",
  "video.rejected": "Rejected by moderation: {reason}",
  "video.notfound": "This video does not exist or is not available to you.",
  "video.private": "Private",
  "video.unlisted": "Unlisted",
  "video.public": "Public",
  "player.play": "Play",
  "player.pause": "Pause",
  "player.mute": "Mute",
  "player.unmute": "Unmute",
  "player.quality": "Quality",
  "player.auto": "Auto",
  "player.fullscreen": "Full screen",
  "player.tapunmute": "Tap to unmute",
  "player.failed": "The video stopped loading.",
  "player.retry": "Try again",
  "upload.title": "Upload a video",
  "upload.drop": "Drop a video file here, or choose one",
  "upload.choose": "Choose file",
  "upload.field.title": "Title",
  "upload.field.description": "Description",
  "upload.field.privacy": "Visibility",
  "upload.start": "Upload",
  "upload.progress": "{done} of {total} · {rate}/s · {eta} left",
  "upload.resumed": "Resuming the upload started earlier",
  "upload.resumable": "Part of this file was uploaded earlier: the upload will go on from there.",
  "upload.uploaded": "Uploaded. Processing…",
  "upload.playable": "Playable",
  "upload.ready": "Ready",
  "upload.watch": "Go to the video",
  "upload.signin": "Sign in to upload videos.",
  "upload.error.too_large": "The file is too large (limit {limit}).",
  "upload.error.quota": "Your storage quota is used up.",
  "upload.error.failed": "The file was rejected: {reason}",
  "upload.error.other": "The upload failed: {reason}",
  "mine.title": "My videos",
  "mine.status": "Status",
  "mine.privacy": "Visibility",
  "mine.delete": "Delete",
  "mine.confirm": "Delete “{title}”? This cannot be undone.",
  "mine.empty": "You have not uploaded any videos.",
  "status.awaiting_upload": "Uploading",
  "status.queued": "Queued",
  "status.processing": "Processing",
  "status.ready": "Ready",
  "status.failed": "Failed",
  "mod.title": "Moderation queue",
  "mod.empty": "The queue is empty.",
  "mod.approve": "Approve",
  "mod.reject": "Reject",
  "mod.reason": "Reason shown to the uploader",
  "mod.denied": "Only moderators can see the queue.",
  "auth.login": "Sign in",
  "auth.register": "Create an account",
  "auth.username": "Username",
  "auth.email": "E-mail",
  "auth.password": "Password",
  "auth.noaccount": "No account yet? Register",
  "auth.haveaccount": "Already registered? Sign in",
  "channel.videos": "Videos",
  "shorts.empty": "No shorts yet.",
  "error.generic": "Something went wrong: {reason}",
};

type Key = keyof typeof en;
type Entry = string | { one: string; few: string; many: string; other: string };

const ru: Record<Key, Entry> = {
  "app.name": "Кадр",
  "nav.home": "Главная",
  "nav.shorts": "Shorts",
  "nav.upload": "Загрузить",
  "nav.mine": "Мои видео",
  "nav.moderation": "Модерация",
  "nav.login": "Войти",
  "nav.logout": "Выйти",
  "nav.register": "Регистрация",
  "search.placeholder": "Поиск",
  "search.results": "Результаты по запросу «{q}»",
  "search.none": "По запросу «{q}» ничего не найдено.",
  "home.new": "Новые",
  "home.popular": "Популярные",
  "list.empty": "Видео пока нет.",
  "list.more": "Загрузка…",
  "video.views": { one: "{n} просмотр", few: "{n} просмотра", many: "{n} просмотров", other: "{n} просмотра" },
  "video.processing": "Обработка: {stage} {progress}%",
  "video.waiting": "Ожидает обработки",
  "video.failed": "Обработка не удалась: {reason}",
  "video.pending": "Ожидает модерации",
  "video.rejected": "Отклонено модератором: {reason}",
  "video.notfound": "Такого видео нет или оно вам недоступно.",
  "video.private": "Личное",
  "video.unlisted": "По ссылке",
  "video.public": "Открытое",
  "player.play": "Смотреть",
  "player.pause": "Пауза",
  "player.mute": "Выключить звук",
  "player.unmute": "Включить звук",
  "player.quality": "Качество",
  "player.auto": "Авто",
  "player.fullscreen": "Во весь экран",
  "player.tapunmute": "Нажмите, чтобы включить звук",
  "player.failed": "Видео перестало загружаться.",
  "player.retry": "Повторить",
  "upload.title": "Загрузка видео",
  "upload.drop": "Перетащите сюда видеофайл или выберите его",
  "upload.choose": "Выбрать файл",
  "upload.field.title": "Название",
  "upload.field.description": "Описание",
  "upload.field.privacy": "Доступ",
  "upload.start": "Загрузить",
  "upload.progress": "{done} из {total} · {rate}/с · осталось {eta}",
  "upload.resumed": "Продолжаем начатую ранее загрузку",
  "upload.resumable": "Часть этого файла уже загружена: загрузка продолжится с того места.",
  "upload.uploaded": "Загружено. Обработка…",
  "upload.playable": "Можно смотреть",
  "upload.ready": "Готово",
  "upload.watch": "Перейти к видео",
  "upload.signin": "Войдите, чтобы загружать видео.",
  "upload.error.too_large": "Файл слишком большой (не больше {limit}).",
  "upload.error.quota": "Ваша квота хранилища исчерпана.",
  "upload.error.failed": "Файл отклонён: {reason}",
  "upload.error.other": "Загрузка не удалась: {reason}",
  "mine.title": "Мои видео",
  "mine.status": "Состояние",
  "mine.privacy": "Доступ",
  "mine.delete": "Удалить",
  "mine.confirm": "Удалить «{title}»? Это нельзя отменить.",
  "mine.empty": "Вы ещё не загрузили ни одного видео.",
  "status.awaiting_upload": "Загружается",
  "status.queued": "В очереди",
  "status.processing": "Обрабатывается",
  "status.ready": "Готово",
  "status.failed": "Ошибка",
  "mod.title": "Очередь модерации",
  "mod.empty": "Очередь пуста.",
  "mod.approve": "Одобрить",
  "mod.reject": "Отклонить",
  "mod.reason": "Причина (её увидит автор)",
  "mod.denied": "Очередь видна только модераторам.",
  "auth.login": "Вход",
  "auth.register": "Регистрация",
  "auth.username": "Имя пользователя",
  "auth.email": "Эл. почта",
  "auth.password": "Пароль",
  "auth.noaccount": "Нет аккаунта? Зарегистрируйтесь",
  "auth.haveaccount": "Уже есть аккаунт? Войдите",
  "channel.videos": "Видео",
  "shorts.empty": "Shorts пока нет.",
  "error.generic": "Что-то пошло не так: {reason}",
};

const dicts: Record<Lang, Record<Key, Entry>> = { en, ru };

/** The first of the browser's languages we have, else English. */
export function detectLang(languages: readonly string[]): Lang {
  for (const l of languages) {
    const base = l.toLowerCase().split("-")[0];
    if (base === "ru" || base === "en") return base;
  }
  return "en";
}

let current: Lang = "en";

export function initLang(): Lang {
  const saved = typeof localStorage === "undefined" ? null : localStorage.getItem(LANG_KEY);
  current = saved === "ru" || saved === "en" ? saved : detectLang(globalThis.navigator?.languages ?? []);
  if (typeof document !== "undefined") document.documentElement.lang = current;
  return current;
}

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  localStorage.setItem(LANG_KEY, l);
  document.documentElement.lang = l;
}

/** The string for `key` in the current language with `{name}` placeholders filled; entries
 * with plural forms pick one by `vars.n` under the language's plural rules. */
export function t(key: Key, vars: Record<string, string | number> = {}, l: Lang = current): string {
  const entry = dicts[l][key] ?? en[key];
  let s: string;
  if (typeof entry === "string") s = entry;
  else {
    const form = new Intl.PluralRules(l).select(Number(vars.n ?? 0)) as keyof typeof entry;
    s = entry[form] ?? entry.other;
  }
  return s.replace(/\{(\w+)\}/g, (_, name: string) =>
    name in vars ? (name === "n" ? formatCount(Number(vars.n), l) : String(vars[name])) : `{${name}}`,
  );
}

export function formatCount(n: number, l: Lang = current): string {
  return new Intl.NumberFormat(l === "ru" ? "ru-RU" : "en-US").format(n);
}

export type { Key };
