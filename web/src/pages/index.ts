// The pages by the names routes.json gives them.
import type { PageFn } from "../router";
import { loginPage, registerPage } from "./auth";
import { feed, home, liked, search } from "./browse";
import { channel, channels } from "./channel";
import { mine } from "./mine";
import { moderation } from "./moderation";
import { notifications } from "./notifications";
import { shorts } from "./shorts";
import { upload } from "./upload";
import { watch } from "./watch";

export const pages: Readonly<Record<string, PageFn>> = {
  home,
  feed,
  watch,
  upload,
  search,
  shorts,
  channel,
  channels,
  liked,
  notifications,
  mine,
  moderation,
  login: loginPage,
  register: registerPage,
};
