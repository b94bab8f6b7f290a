// The pages by the names routes.json gives them.
import type { PageFn } from "../router";
import { loginPage, registerPage } from "./auth";
import { channel, home, search } from "./browse";
import { mine } from "./mine";
import { moderation } from "./moderation";
import { shorts } from "./shorts";
import { upload } from "./upload";
import { watch } from "./watch";

export const pages: Readonly<Record<string, PageFn>> = {
  home,
  watch,
  upload,
  search,
  shorts,
  channel,
  mine,
  moderation,
  login: loginPage,
  register: registerPage,
};
