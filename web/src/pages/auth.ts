// Sign in and register; a forgotten password (a mail with a link, when the server sends
// mail), the page that link opens to choose a new one, and the page an address check's link
// opens.
import { call, login, register, serverFeatures } from "../api";
import { h } from "../dom";
import { t } from "../i18n";
import { accountLimits, loginNameLimit, passwordLimits } from "../limits";
import { problemText } from "../messages";
import { adoptAccountLanguages } from "../prefs";
import { navigate, type PageFn } from "../router";

function form(kind: "login" | "register", next: string): HTMLElement {
  // A new account's limits (Register); signing in is held only to the longest name the server
  // looks up (Login), so an account made under other rules can still sign in.
  const limits = (l: { min: number; max: number }) => (kind === "register" ? { minLength: l.min, maxLength: l.max } : {});
  const username = h("input", {
    name: "username",
    autocomplete: "username",
    required: true,
    ...(kind === "register" ? limits(accountLimits.username) : { maxLength: loginNameLimit }),
  });
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", {
    name: "password",
    type: "password",
    autocomplete: kind === "login" ? "current-password" : "new-password",
    required: true,
    ...limits(accountLimits.password),
  });
  const error = h("div.error", { role: "alert", hidden: true, dataset: { testid: "auth-error" } });
  // Only where the server can send the mail.
  const forgotLink = h("a", { href: "/forgot-password", hidden: true, dataset: { testid: "forgot-link" } }, t("auth.forgot"));
  if (kind === "login") {
    void serverFeatures().then((f) => {
      forgotLink.hidden = !f.mail;
    });
  }
  const submit = h("button.primary", { type: "submit" }, kind === "login" ? t("auth.login") : t("auth.register"));
  const f = h(
    "form.auth-form",
    {},
    h("h1.page-title", {}, kind === "login" ? t("auth.login") : t("auth.register")),
    h("label", {}, t("auth.username"), username),
    kind === "register" ? h("label", {}, t("auth.email"), email) : null,
    h("label", {}, t("auth.password"), password),
    submit,
    error,
    kind === "login" ? forgotLink : null,
    kind === "login"
      ? h("a", { href: `/register?next=${encodeURIComponent(next)}` }, t("auth.noaccount"))
      : h("a", { href: `/login?next=${encodeURIComponent(next)}` }, t("auth.haveaccount")),
  );
  const send = async () => {
    submit.disabled = true;
    error.hidden = true;
    try {
      if (kind === "login") await login(username.value.trim(), password.value);
      else await register(username.value.trim(), email.value.trim(), password.value);
      // The account's languages before the next page is drawn (in its language at once).
      await adoptAccountLanguages();
      navigate(next.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (err) {
      error.textContent = problemText(err);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  };
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    void send();
  });
  return f;
}

export const loginPage: PageFn = (root, _p, url) => {
  root.append(form("login", url.searchParams.get("next") ?? "/"));
};

export const registerPage: PageFn = (root, _p, url) => {
  root.append(form("register", url.searchParams.get("next") ?? "/"));
};

/** A form page of its own: a title, fields, a button, and a line for how it went. */
function accountForm(title: string, testid: string, fields: HTMLElement[], button: string, send: () => Promise<string>): HTMLElement {
  const message = h("div.form-message", { role: "status", hidden: true, dataset: { testid: `${testid}-message` } });
  const submit = h("button.primary", { type: "submit", dataset: { testid: `${testid}-submit` } }, button);
  const f = h("form.auth-form", { dataset: { testid } }, h("h1.page-title", {}, title), ...fields, submit, message);
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    submit.disabled = true;
    message.hidden = true;
    send()
      .then((text) => {
        message.replaceChildren(text);
        message.classList.remove("error");
      })
      .catch((err: unknown) => {
        message.textContent = problemText(err);
        message.classList.add("error");
        submit.disabled = false;
      })
      .finally(() => {
        message.hidden = false;
      });
  });
  return f;
}

/** /forgot-password: a username or address; the server mails a link when it knows it. */
export const forgotPage: PageFn = (root) => {
  const login = h("input", { name: "login", required: true, autocomplete: "username", maxLength: 320, dataset: { testid: "forgot-login" } });
  root.append(
    accountForm(t("auth.forgottitle"), "forgot", [h("p.muted", {}, t("auth.forgothint")), h("label", {}, t("auth.login_or_email"), login)], t("auth.sendlink"), async () => {
      await call("post", "/api/v1/auth/password-reset", { body: { login: login.value.trim() } });
      return t("auth.linksent");
    }),
  );
};

/** /reset-password?token=…: a new password, twice. */
export const resetPage: PageFn = (root, _p, url) => {
  const token = url.searchParams.get("token") ?? "";
  const attrs = { type: "password", required: true, autocomplete: "new-password", minLength: passwordLimits.min, maxLength: passwordLimits.max };
  const first = h("input", { ...attrs, name: "password", dataset: { testid: "reset-password" } });
  const again = h("input", { ...attrs, name: "password-again", dataset: { testid: "reset-again" } });
  const check = () => again.setCustomValidity(again.value && again.value !== first.value ? t("auth.mismatch") : "");
  first.addEventListener("input", check);
  again.addEventListener("input", check);
  if (!token) {
    root.append(h("p.notice", { dataset: { testid: "reset-notoken" } }, t("error.invalid_account_token")));
    return;
  }
  root.append(
    accountForm(
      t("auth.resettitle"),
      "reset",
      [h("label", {}, t("settings.newpassword"), first, h("span.muted.hint", {}, t("settings.passwordhint", { n: passwordLimits.min }))), h("label", {}, t("auth.again"), again)],
      t("auth.setpassword"),
      async () => {
        await call("post", "/api/v1/auth/password-reset/confirm", { body: { token, password: first.value } });
        // The link is used: the address bar no longer carries it.
        history.replaceState(null, "", "/reset-password");
        root.querySelector("form")?.querySelectorAll("input, button").forEach((el) => el.setAttribute("disabled", ""));
        root.append(h("p", {}, h("a.button", { href: "/login", dataset: { testid: "reset-login" } }, t("auth.login"))));
        return t("auth.passwordset");
      },
    ),
  );
};

/** /verify-email?token=…: checks the address at once. */
export const verifyPage: PageFn = async (root, _p, url) => {
  const token = url.searchParams.get("token") ?? "";
  const message = h("p.notice", { role: "status", dataset: { testid: "verify-message" } }, t("list.more"));
  root.append(h("h1.page-title", {}, t("auth.verifytitle")), message);
  try {
    if (!token) throw new Error(t("error.invalid_account_token"));
    await call("post", "/api/v1/auth/email-verification", { body: { token } });
    history.replaceState(null, "", "/verify-email");
    message.textContent = t("auth.verified");
    message.dataset.ok = "true";
  } catch (e) {
    message.textContent = e instanceof Error && !("status" in e) ? e.message : problemText(e);
    message.dataset.ok = "false";
  }
};
