// The player's words, kept beside the player (it is used on the watch page, in embeds and in
// the shorts feed); i18n.ts merges them into its dictionaries.

export const playerStrings = {
  en: {
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
  },
  ru: {
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
  },
};
