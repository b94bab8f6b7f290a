// A video's comments: the count, newest or top first with the pinned one on top, more on
// request (the API's cursor), a form to post (held comments say so), one level of replies,
// editing, deleting, pinning, likes, and for the video's owner and moderators the held
// comments and the owner's policy. Text is shown as text (richtext.ts).
import { call, get, type Comment, type CommentPage, type CommentPolicy, type User, type Video } from "./api";
import { h } from "./dom";
import { dateTime, timeAgo } from "./format";
import { formatCount, t, type Key } from "./i18n";
import { icon } from "./icons";
import { commentLimits, commentPolicyChoices, isCommentPolicy } from "./limits";
import { problemText } from "./messages";
import { Optimistic, toggled, type Toggle } from "./optimistic";
import { richText } from "./richtext";
import { blockUser, menu, reportDialog } from "./safety";
import { avatar, named, toLogin } from "./social";

export interface CommentsOptions {
  video: Pick<Video, "id" | "comments" | "comment_policy" | "duration_secs">;
  user: User | null;
  /** The video's owner (or an admin): pins, sets the policy. */
  owner: boolean;
  /** The owner, an admin or a moderator: approves held comments, deletes any. */
  reviewer: boolean;
  /** Seeks the video to a time written in a comment. */
  seek?: (secs: number) => void;
  /** Hears the count of visible comments as it changes. */
  onCount?: (n: number) => void;
}

const PAGE = 20;
const POLICY_LABELS: Record<CommentPolicy, Key> = {
  open: "comments.policy.open",
  hold: "comments.policy.hold",
  off: "comments.policy.off",
};

/** A text box for a comment with its character count, and its buttons. */
function composer(opts: {
  placeholder: string;
  submit: string;
  initial?: string;
  testid: string;
  onSubmit: (body: string) => Promise<boolean>;
  onCancel?: () => void;
}): { el: HTMLFormElement; focus: () => void } {
  const input = h("textarea.comment-input", {
    rows: 2,
    maxLength: commentLimits.max,
    minLength: commentLimits.min,
    required: true,
    placeholder: opts.placeholder,
    "aria-label": opts.placeholder,
    dataset: { testid: `${opts.testid}-input` },
  });
  input.value = opts.initial ?? "";
  const counter = h("span.muted.counter");
  const send = h("button.primary", { type: "submit", dataset: { testid: `${opts.testid}-submit` } }, opts.submit);
  const cancel = opts.onCancel ? h("button", { type: "button", onclick: opts.onCancel }, t("comments.cancel")) : null;
  const update = () => {
    const n = input.value.length;
    counter.textContent = n > commentLimits.max * 0.8 ? `${formatCount(n)} / ${formatCount(commentLimits.max)}` : "";
    send.disabled = !input.value.trim();
  };
  input.addEventListener("input", update);
  update();
  const el = h("form.comment-form", { dataset: { testid: opts.testid } }, input, h("div.comment-form-actions", {}, counter, cancel, send));
  el.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    send.disabled = true;
    void opts.onSubmit(body).then((done) => {
      if (done) input.value = "";
      update();
    });
  });
  // Ctrl/Cmd+Enter sends.
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) el.requestSubmit();
  });
  return { el, focus: () => input.focus() };
}

export function commentsSection(o: CommentsOptions): { el: HTMLElement; destroy(): void } {
  const videoId = o.video.id;
  let count = o.video.comments;
  let policy: CommentPolicy = o.video.comment_policy;
  let sort: "new" | "top" = "new";
  let cursor: string | undefined;
  let generation = 0;
  let counted = false;
  const shown = new Set<string>();

  const heading = h("h2.comments-count", { dataset: { testid: "comments-count" } });
  const setCount = (n: number) => {
    count = Math.max(0, n);
    heading.textContent = t("comments.count", { n: count });
    o.onCount?.(count);
  };
  const error = h("div.error", { role: "alert", hidden: true, dataset: { testid: "comments-error" } });
  const notice = h("div.comment-notice", { role: "status", hidden: true, dataset: { testid: "comment-notice" } });
  const fail = (e: unknown) => {
    error.textContent = problemText(e);
    error.hidden = false;
  };
  const say = (text: string) => {
    notice.textContent = text;
    notice.hidden = !text;
  };
  const list = h("div.comment-list", { dataset: { testid: "comment-list" } });
  const empty = h("p.muted.comments-empty", { hidden: true });
  const more = h("button.more", { type: "button", hidden: true, dataset: { testid: "comments-more" } }, t("comments.more"));
  const seekOpts = { seek: o.seek, duration: o.video.duration_secs };
  const me = o.user?.id;

  // ---- one comment ----
  const render = (c: Comment, where: "list" | "replies" | "held", parent?: { bump: (d: number) => void }): HTMLElement => {
    const top = !c.parent_id;
    const el = h("article.comment", { dataset: { commentId: c.id, testid: "comment" } });
    el.classList.toggle("held", c.held);
    el.classList.toggle("pinned", c.pinned);
    const author = c.author.channel_handle
      ? h("a.comment-author", { href: `/c/${encodeURIComponent(c.author.channel_handle)}`, dir: "auto" }, c.author.username)
      : h("span.comment-author", { dir: "auto" }, c.author.username);
    // A comment reads in its own direction (a Russian one left to right in an Arabic page).
    const body = h("div.comment-body", { dir: "auto", dataset: { testid: "comment-body" } }, richText(c.body, seekOpts));
    const head = h(
      "div.comment-head",
      {},
      c.pinned && where === "list" ? h("span.pill.pin", { dataset: { testid: "pinned" } }, icon("pin"), t("comments.pinned")) : null,
      author,
      c.by_owner ? h("span.pill.owner", {}, t("comments.byowner")) : null,
      h("time.muted", { dateTime: c.created_at, title: dateTime(c.created_at) }, timeAgo(c.created_at)),
      c.edited_at ? h("span.muted.edited", { dataset: { testid: "edited" } }, t("comments.edited")) : null,
      c.held ? h("span.pill.held", { dataset: { testid: "held" } }, t("comments.held")) : null,
    );
    const actions = h("div.comment-actions");
    // Like.
    const likeCount = h("span.count");
    const like = h("button.rate.small", { type: "button", title: t("rating.like"), dataset: { testid: "comment-like" } }, icon("like"), likeCount);
    const likes = new Optimistic<Toggle>(
      { on: !!c.liked, count: c.likes },
      {
        async send(s) {
          const path = { id: c.id };
          if (s.on) await call("put", "/api/v1/comments/{id}/like", { path });
          else await call("delete", "/api/v1/comments/{id}/like", { path });
        },
        show(s) {
          likeCount.textContent = s.count ? formatCount(s.count) : "";
          named(like, t("rating.like"), likeCount.textContent);
          like.setAttribute("aria-pressed", String(s.on));
        },
        failed: fail,
        same: (a, b) => a.on === b.on,
      },
    );
    likeCount.textContent = c.likes ? formatCount(c.likes) : "";
    named(like, t("rating.like"), likeCount.textContent);
    like.setAttribute("aria-pressed", String(!!c.liked));
    like.addEventListener("click", () => {
      if (!o.user) return toLogin();
      error.hidden = true;
      void likes.set(toggled(likes.state, !likes.state.on));
    });
    if (!c.held) actions.append(like);

    // Replies (top-level comments in the main list).
    const replies = h("div.replies", { hidden: true, dataset: { testid: "replies" } });
    const moreReplies = h("button.more.link", { type: "button", hidden: true }, t("comments.morereplies"));
    let replyCount = c.replies;
    let repliesCursor: string | undefined;
    let repliesLoaded = false;
    const toggleReplies = h("button.link.show-replies", { type: "button", dataset: { testid: "show-replies" } });
    const labelReplies = () => {
      toggleReplies.hidden = replyCount <= 0 && !repliesLoaded;
      toggleReplies.textContent = !replies.hidden ? t("comments.hidereplies") : t("comments.showreplies", { n: replyCount });
    };
    const bump = (d: number) => {
      replyCount = Math.max(0, replyCount + d);
      labelReplies();
    };
    const loadReplies = async () => {
      try {
        const page = await get("/api/v1/comments/{id}/replies", { path: { id: c.id }, query: { cursor: repliesCursor, limit: PAGE } });
        for (const r of page.items) {
          if (replies.querySelector(`[data-comment-id="${r.id}"]`)) continue;
          replies.append(render(r, "replies", { bump }));
        }
        repliesCursor = page.next_cursor ?? undefined;
        moreReplies.hidden = !repliesCursor;
        repliesLoaded = true;
      } catch (e) {
        fail(e);
      }
    };
    const openReplies = async () => {
      replies.hidden = false;
      if (!repliesLoaded) await loadReplies();
      labelReplies();
    };
    toggleReplies.addEventListener("click", () => {
      if (replies.hidden) void openReplies();
      else {
        replies.hidden = true;
        labelReplies();
      }
    });
    moreReplies.addEventListener("click", () => void loadReplies());

    // Reply form.
    const replyBox = h("div.reply-box", { hidden: true });
    if (top && where === "list" && !c.held && policy !== "off") {
      const reply = h("button.link", { type: "button", dataset: { testid: "reply" } }, t("comments.reply"));
      reply.addEventListener("click", () => {
        if (!o.user) return toLogin();
        if (!replyBox.hidden) return void (replyBox.hidden = true);
        const form = composer({
          placeholder: t("comments.replyplaceholder"),
          submit: t("comments.reply"),
          testid: "reply-form",
          onCancel: () => void (replyBox.hidden = true),
          onSubmit: async (text) => {
            error.hidden = true;
            try {
              const posted = await call("post", "/api/v1/videos/{id}/comments", { path: { id: videoId }, body: { body: text, parent_id: c.id } });
              replyBox.hidden = true;
              await openReplies();
              if (!replies.querySelector(`[data-comment-id="${posted.id}"]`)) replies.append(render(posted, "replies", { bump }));
              if (posted.held) say(t("comments.heldnotice"));
              else {
                bump(1);
                setCount(count + 1);
              }
              return true;
            } catch (e) {
              fail(e);
              return false;
            }
          },
        });
        replyBox.replaceChildren(form.el);
        replyBox.hidden = false;
        form.focus();
      });
      actions.append(reply);
    }

    // Edit: its author.
    if (me && c.author.id === me) {
      const edit = h("button.link", { type: "button", dataset: { testid: "comment-edit" } }, t("comments.edit"));
      edit.addEventListener("click", () => {
        const form = composer({
          placeholder: t("comments.placeholder"),
          submit: t("comments.save"),
          initial: c.body,
          testid: "edit-form",
          onCancel: () => form.el.replaceWith(body),
          onSubmit: async (text) => {
            error.hidden = true;
            try {
              const saved = await call("patch", "/api/v1/comments/{id}", { path: { id: c.id }, body: { body: text } });
              // What the list shows of it stays: pinned, replies.
              el.replaceWith(render({ ...saved, pinned: c.pinned, replies: replyCount }, where, parent));
              if (saved.held && !c.held) {
                say(t("comments.heldnotice"));
                if (top) setCount(count - 1 - replyCount);
                else {
                  parent?.bump(-1);
                  setCount(count - 1);
                }
              }
              return true;
            } catch (e) {
              fail(e);
              return false;
            }
          },
        });
        body.replaceWith(form.el);
        form.focus();
      });
      actions.append(edit);
    }

    // Pin: the video's owner, top-level comments seen by everyone.
    if (o.owner && top && !c.held && where === "list") {
      const pin = h("button.link", { type: "button", dataset: { testid: c.pinned ? "unpin" : "pin" } }, c.pinned ? t("comments.unpin") : t("comments.pin"));
      pin.addEventListener("click", () => {
        error.hidden = true;
        const path = { id: c.id };
        (c.pinned ? call("delete", "/api/v1/comments/{id}/pin", { path }) : call("put", "/api/v1/comments/{id}/pin", { path }))
          .then(() => reload())
          .catch(fail);
      });
      actions.append(pin);
    }

    // Approve: held comments, for the owner and moderators.
    if (o.reviewer && c.held) {
      const approve = h("button.primary.small", { type: "button", dataset: { testid: "approve-comment" } }, t("comments.approve"));
      approve.addEventListener("click", () => {
        error.hidden = true;
        call("post", "/api/v1/comments/{id}/approve", { path: { id: c.id } })
          .then((approved) => {
            setCount(count + 1);
            if (where === "held") {
              el.remove();
              heldTitleUpdate(-1);
              // Where it now shows: under its comment, or in the list.
              if (approved.parent_id) {
                list.querySelector(`[data-comment-id="${approved.parent_id}"]`)?.dispatchEvent(new CustomEvent("kadr:reply-approved"));
              } else reload();
            } else {
              el.replaceWith(render(approved, where, parent));
              if (where === "replies") parent?.bump(1);
              if (!heldList.hidden) void loadHeld(true);
            }
          })
          .catch(fail);
      });
      actions.append(approve);
    }
    el.addEventListener("kadr:reply-approved", () => {
      bump(1);
      if (repliesLoaded) {
        replies.replaceChildren();
        repliesCursor = undefined;
        repliesLoaded = false;
        if (!replies.hidden) void loadReplies();
      }
    });

    // Delete: its author, the video's owner, moderators.
    if ((me && c.author.id === me) || o.reviewer) {
      const del = h("button.link.danger", { type: "button", dataset: { testid: "comment-delete" } }, t("comments.delete"));
      del.addEventListener("click", () => {
        if (!confirm(t("comments.deleteconfirm"))) return;
        error.hidden = true;
        call("delete", "/api/v1/comments/{id}", { path: { id: c.id } })
          .then(() => {
            el.remove();
            shown.delete(c.id);
            if (where === "held") return heldTitleUpdate(-1);
            if (c.held) return;
            if (top) setCount(count - 1 - replyCount);
            else {
              parent?.bump(-1);
              setCount(count - 1);
            }
            if (where === "list" && !list.querySelector(".comment")) showEmpty();
          })
          .catch(fail);
      });
      actions.append(del);
    }

    // Report and block: someone else's comment.
    if (where !== "held" && c.author.id !== me) {
      actions.append(
        menu("comment-menu", [
          { label: t("report.action"), testid: "comment-report", run: () => (o.user ? reportDialog("comment", c.id) : toLogin()) },
          ...(o.user
            ? [
                {
                  label: t("block.action"),
                  testid: "comment-block",
                  danger: true,
                  run: () =>
                    void blockUser(c.author.username).then((done) => {
                      if (done) reload();
                    }),
                },
              ]
            : []),
        ]),
      );
    }

    const main = h("div.comment-main", {}, head, body, actions, replyBox);
    if (top && where === "list") {
      labelReplies();
      main.append(toggleReplies, replies, moreReplies);
    }
    el.append(avatar(c.author.username), main);
    return el;
  };

  // ---- the list ----
  const showEmpty = () => {
    const off = policy === "off";
    empty.textContent = off ? t("comments.off") : t("comments.empty");
    empty.hidden = off ? false : !!list.querySelector(".comment");
  };
  const load = async () => {
    const mine = generation;
    more.disabled = true;
    let page: CommentPage;
    try {
      page = await get("/api/v1/videos/{id}/comments", { path: { id: videoId }, query: { sort, cursor, limit: PAGE } });
    } catch (e) {
      if (mine === generation) fail(e);
      return;
    } finally {
      more.disabled = false;
    }
    if (mine !== generation) return;
    if (!cursor) {
      setPolicy(page.policy);
      // The server folds its count about a second after a change: once the section has
      // shown one, it keeps its own (a list drawn again after a pin or an approval would
      // otherwise go back to a count without this viewer's latest change).
      // Nor fewer than it shows.
      const ids = new Set<string>();
      let least = 0;
      for (const c of [page.pinned, ...page.items]) {
        if (!c || ids.has(c.id)) continue;
        ids.add(c.id);
        least += 1 + c.replies;
      }
      if (!counted) setCount(Math.max(page.count, least));
      counted = true;
    }
    for (const c of [page.pinned, ...page.items]) {
      if (!c || shown.has(c.id)) continue;
      shown.add(c.id);
      list.append(render(c, "list"));
    }
    cursor = page.next_cursor ?? undefined;
    more.hidden = !cursor;
    showEmpty();
  };
  const reload = () => {
    generation++;
    cursor = undefined;
    shown.clear();
    list.replaceChildren();
    more.hidden = true;
    void load();
  };
  more.addEventListener("click", () => void load());

  // ---- sort ----
  const sortButtons = (["new", "top"] as const).map((s) => {
    const b = h("button.tab", { type: "button", dataset: { testid: `sort-${s}` } }, s === "new" ? t("comments.sort.new") : t("comments.sort.top"));
    b.addEventListener("click", () => {
      if (sort === s) return;
      sort = s;
      sortButtons.forEach((x, i) => x.setAttribute("aria-pressed", String(["new", "top"][i] === sort)));
      reload();
    });
    b.setAttribute("aria-pressed", String(s === sort));
    return b;
  });

  // ---- posting ----
  const formSlot = h("div.comment-compose");
  const renderForm = () => {
    if (policy === "off") return formSlot.replaceChildren();
    if (!o.user) {
      return formSlot.replaceChildren(h("p.muted", {}, h("a", { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, t("comments.signin"))));
    }
    const form = composer({
      placeholder: t("comments.placeholder"),
      submit: t("comments.post"),
      testid: "comment-form",
      onSubmit: async (text) => {
        error.hidden = true;
        say("");
        try {
          const posted = await call("post", "/api/v1/videos/{id}/comments", { path: { id: videoId }, body: { body: text } });
          shown.add(posted.id);
          // At the top, under the pinned one.
          const pinned = list.querySelector(":scope > .comment.pinned");
          const el = render(posted, "list");
          if (pinned) pinned.after(el);
          else list.prepend(el);
          if (posted.held) say(t("comments.heldnotice"));
          else setCount(count + 1);
          showEmpty();
          return true;
        } catch (e) {
          fail(e);
          return false;
        }
      },
    });
    formSlot.replaceChildren(avatar(o.user.username), form.el);
  };

  // ---- the owner's policy ----
  let policySelect: HTMLSelectElement | null = null;
  const setPolicy = (p: CommentPolicy) => {
    const changed = p !== policy;
    policy = p;
    if (policySelect) policySelect.value = p;
    if (changed) renderForm();
  };
  if (o.owner) {
    policySelect = h(
      "select",
      { "aria-label": t("comments.policy"), dataset: { testid: "comment-policy" } },
      ...commentPolicyChoices.map((p) => h("option", { value: p, selected: p === policy }, t(POLICY_LABELS[p]))),
    );
    const select = policySelect;
    select.addEventListener("change", () => {
      const wanted = select.value;
      if (!isCommentPolicy(wanted)) return;
      error.hidden = true;
      call("patch", "/api/v1/videos/{id}", { path: { id: videoId }, body: { comments: wanted } })
        .then((v) => {
          setPolicy(v.comment_policy);
          reload();
        })
        .catch((e: unknown) => {
          select.value = policy;
          fail(e);
        });
    });
  }

  // ---- held comments ----
  const heldList = h("div.held-list", { hidden: true, dataset: { testid: "held-list" } });
  const heldToggle = h("button", { type: "button", dataset: { testid: "held-toggle" } }, t("comments.heldlist"));
  let heldCursor: string | undefined;
  let heldShown = 0;
  let heldGeneration = 0;
  const heldTitleUpdate = (d: number) => {
    heldShown = Math.max(0, heldShown + d);
    heldToggle.textContent = heldShown ? `${t("comments.heldlist")} (${formatCount(heldShown)}${heldCursor ? "+" : ""})` : t("comments.heldlist");
    if (!heldShown && !heldCursor && !heldList.hidden) {
      heldList.replaceChildren(h("p.muted", {}, t("comments.heldempty")));
    }
  };
  const loadHeld = async (reset: boolean) => {
    // A load started earlier (when the section opened) must not add to a list begun anew.
    if (reset) {
      heldGeneration++;
      heldCursor = undefined;
      heldShown = 0;
      heldList.replaceChildren();
    }
    const mine = heldGeneration;
    try {
      const page = await get("/api/v1/videos/{id}/comments/held", { path: { id: videoId }, query: { cursor: heldCursor, limit: PAGE } });
      if (mine !== heldGeneration) return;
      heldList.querySelector(".more")?.remove();
      heldList.querySelector(":scope > p")?.remove();
      const fresh = page.items.filter((c) => !heldList.querySelector(`[data-comment-id="${c.id}"]`));
      fresh.forEach((c) => heldList.append(render(c, "held")));
      heldCursor = page.next_cursor ?? undefined;
      if (heldCursor) heldList.append(h("button.more", { type: "button", onclick: () => void loadHeld(false) }, t("comments.more")));
      heldTitleUpdate(fresh.length);
    } catch (e) {
      if (mine === heldGeneration) fail(e);
    }
  };
  heldToggle.addEventListener("click", () => {
    heldList.hidden = !heldList.hidden;
    heldToggle.setAttribute("aria-expanded", String(!heldList.hidden));
    if (!heldList.hidden) void loadHeld(true);
  });

  const el = h(
    "section.comments",
    { dataset: { testid: "comments" } },
    h(
      "div.comments-head",
      {},
      heading,
      h("div.comments-sort", { role: "group", "aria-label": t("comments.sort") }, sortButtons),
      o.owner && policySelect ? h("label.comment-policy", {}, h("span.muted", {}, t("comments.policy")), policySelect) : null,
      o.reviewer ? heldToggle : null,
    ),
    o.reviewer ? heldList : null,
    formSlot,
    notice,
    error,
    list,
    empty,
    more,
  );
  setCount(count);
  renderForm();
  if (o.reviewer) void loadHeld(true);
  void load();
  return {
    el,
    destroy: () => {
      generation++;
    },
  };
}
