// The pages by the names routes.json gives them.
import type { PageFn } from "../router";
import { adminUsers } from "./admin";
import { forgotPage, loginPage, registerPage, resetPage, verifyPage } from "./auth";
import { feed, home, liked, search } from "./browse";
import { channel, channels } from "./channel";
import { editVideo } from "./edit";
import { history } from "./history";
import { importPage } from "./imports";
import { mine } from "./mine";
import { moderation } from "./moderation";
import { notifications } from "./notifications";
import { playlist, playlists } from "./playlists";
import { moderationLog, reports } from "./reports";
import { settings } from "./settings";
import { shorts } from "./shorts";
import { upload } from "./upload";
import { watch } from "./watch";
import { webhooksPage } from "./webhooks";

export const pages: Readonly<Record<string, PageFn>> = {
  home,
  feed,
  watch,
  upload,
  imports: importPage,
  search,
  shorts,
  channel,
  channels,
  liked,
  notifications,
  mine,
  editVideo,
  moderation,
  login: loginPage,
  register: registerPage,
  playlists,
  playlist,
  history,
  settings,
  webhooks: webhooksPage,
  reports,
  moderationLog,
  adminUsers,
  forgotPassword: forgotPage,
  resetPassword: resetPage,
  verifyEmail: verifyPage,
};
