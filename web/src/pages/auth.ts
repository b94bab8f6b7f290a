// Sign in and register.
import { ApiError, login, register } from "../api";
import { h } from "../dom";
import { t } from "../i18n";
import { accountLimits, loginNameLimit } from "../limits";
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
      navigate(next.startsWith("/") && !next.startsWith("//") ? next : "/");
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.detail : String(err);
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
