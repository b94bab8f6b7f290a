// A modal dialog on the native <dialog> element: focus is held inside, Escape and the close
// button close it, and it is removed from the page once closed, the focus back where it was.
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
  const headingId = `dialog-${Math.random().toString(36).slice(2)}`;
  heading.id = headingId;
  const el = h("dialog.modal", { "aria-labelledby": headingId, dataset: { testid } }, h("div.dialog-head", {}, heading, close), body);
  // What had the focus: a choice in a menu that closed on it gives way to the menu's button.
  const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  close.addEventListener("click", () => el.close());
  // Tab goes round inside (the page behind is inert, but the browser would take the focus out
  // to its own toolbar): from the last control to the first, and back with Shift+Tab.
  el.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    const stops = [...el.querySelectorAll<HTMLElement>("a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex='-1'])")].filter(
      (c) => !c.matches(":disabled") && c.getClientRects().length > 0,
    );
    if (!stops.length) return;
    const [first, last] = [stops[0], stops[stops.length - 1]];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  });
  // A click on the backdrop (outside the box) closes it.
  el.addEventListener("click", (e) => {
    if (e.target === el) el.close();
  });
  el.addEventListener("close", () => {
    el.remove();
    const back = opener?.closest<HTMLDetailsElement>("details:not([open])")?.querySelector("summary") ?? opener;
    if (back?.isConnected) back.focus();
    onClose?.();
  });
  document.body.append(el);
  el.showModal();
  return { el, body, close: () => el.close() };
}

/** Asks `question` in a dialog titled `title` with a button that does it (`yes`, marked as
 * dangerous with `danger`) and one that does not; resolves with the choice (closing it any
 * other way is "no"). The focus starts on "no", so Enter at once does nothing harmful. */
export function confirmDialog(title: string, question: string, yes: string, testid: string, danger = false): Promise<boolean> {
  return new Promise((answer) => {
    let chosen = false;
    const ok = h(`button.${danger ? "danger" : "primary"}`, { type: "button", dataset: { testid: "confirm-yes" } }, yes);
    const no = h("button", { type: "button", dataset: { testid: "confirm-no" } }, t("dialog.cancel"));
    const text = h("p.confirm-text", {}, question);
    const dialog = openDialog(title, testid, [text, h("div.form-actions.confirm-actions", {}, no, ok)], () => answer(chosen));
    text.id = `${dialog.el.getAttribute("aria-labelledby")}-text`;
    dialog.el.setAttribute("aria-describedby", text.id);
    ok.addEventListener("click", () => {
      chosen = true;
      dialog.close();
    });
    no.addEventListener("click", () => dialog.close());
    no.focus();
  });
}
