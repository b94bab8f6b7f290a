// A modal dialog on the native <dialog> element: focus is held inside, Escape and the close
// button close it, and it is removed from the page once closed.
import { h } from "./dom";
import { t } from "./i18n";

export interface Dialog {
  el: HTMLDialogElement;
  body: HTMLElement;
  close(): void;
}

/** Opens a dialog titled `title` holding `children`; `onClose` hears it close. */
export function openDialog(title: string, testid: string, children: (Node | null)[], onClose?: () => void): Dialog {
  const close = h("button.link.dialog-close", { type: "button", "aria-label": t("dialog.close"), dataset: { testid: "dialog-close" } }, "✕");
  const body = h("div.dialog-body");
  children.forEach((c) => c && body.append(c));
  const heading = h("h2.dialog-title", {}, title);
  const el = h("dialog.modal", { "aria-label": title, dataset: { testid } }, h("div.dialog-head", {}, heading, close), body);
  close.addEventListener("click", () => el.close());
  // A click on the backdrop (outside the box) closes it.
  el.addEventListener("click", (e) => {
    if (e.target === el) el.close();
  });
  el.addEventListener("close", () => {
    el.remove();
    onClose?.();
  });
  document.body.append(el);
  el.showModal();
  return { el, body, close: () => el.close() };
}
