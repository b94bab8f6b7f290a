// Input limits and choices, read from the server's OpenAPI document at build time: the forms
// allow what the server accepts, and a limit the document stops stating fails the type check.
import { components } from "../openapi.json";
import type { CommentPolicy, Privacy } from "./api";

const schemas = components.schemas;
const video = schemas.NewVideo.properties;
const register = schemas.Register.properties;

/** Of a video's title, description and tags (NewVideo; VideoPatch states the same). */
export const videoLimits = {
  /** Characters of the title. */
  title: video.title.maxLength,
  /** Characters of the description. */
  description: video.description.maxLength,
  /** How many tags. */
  tags: video.tags.maxItems,
  /** Characters of one tag. */
  tag: video.tags.items.maxLength,
} as const;

/** Characters of a moderator's reason (Decision). */
export const reasonLimit = schemas.Decision.properties.reason.maxLength;

/** Characters of the name a sign-in takes (Login): the longest name the server looks up. */
export const loginNameLimit = schemas.Login.properties.username.maxLength;

/** Of a new account (Register). Signing in is held only to the name's longest (Login). */
export const accountLimits = {
  /** Characters of the username. */
  username: { min: register.username.minLength, max: register.username.maxLength },
  /** Characters of the password. */
  password: { min: register.password.minLength, max: register.password.maxLength },
} as const;

// The generated type's values, each once: the compiler refuses this object when the document's
// enum gains or loses one (api-schema.ts is made from the same document; check:api keeps it so).
const PRIVACY: Record<Privacy, true> = { public: true, unlisted: true, private: true };

/** Whether `value` (a form's, or a resumed upload's metadata) is a visibility the API takes. */
export function isPrivacy(value: unknown): value is Privacy {
  return typeof value === "string" && Object.hasOwn(PRIVACY, value);
}

/** The visibilities a new video or an edit can choose, in the document's order (the enum of
 * NewVideo.privacy, whose `null` means "leave it as it is"). */
export const privacyChoices: readonly Privacy[] = video.privacy.enum.filter(isPrivacy);

const channel = schemas.ChannelCreate.properties;
const link = schemas.LinkJson.properties;

/** Of a channel (ChannelCreate; ChannelPatch states the same maxima). */
export const channelLimits = {
  /** Characters of the handle (its address, /c/{handle}). */
  handle: { min: channel.handle.minLength, max: channel.handle.maxLength },
  /** Characters of the name shown. */
  displayName: channel.display_name.maxLength,
  /** Characters of the description. */
  description: channel.description.maxLength,
  /** How many links. */
  links: channel.links.maxItems,
  /** Characters of a link's title and of its address. */
  linkTitle: link.title.maxLength,
  linkUrl: link.url.maxLength,
} as const;

/** Characters of a comment (NewComment; CommentEdit states the same). */
export const commentLimits = {
  min: schemas.NewComment.properties.body.minLength,
  max: schemas.NewComment.properties.body.maxLength,
} as const;

const POLICY: Record<CommentPolicy, true> = { open: true, hold: true, off: true };

/** Whether `value` is a comment policy the API takes. */
export function isCommentPolicy(value: unknown): value is CommentPolicy {
  return typeof value === "string" && Object.hasOwn(POLICY, value);
}

/** The comment policies an owner can choose, in the document's order (VideoPatch.comments). */
export const commentPolicyChoices: readonly CommentPolicy[] = schemas.VideoPatch.properties.comments.enum.filter(isCommentPolicy);

const playlist = schemas.PlaylistCreate.properties;

/** Of a playlist (PlaylistCreate; PlaylistPatch states the same maxima). */
export const playlistLimits = {
  title: playlist.title.maxLength,
  description: playlist.description.maxLength,
} as const;

/** Characters of a report's details (NewReport). */
export const reportDetailsLimit = schemas.NewReport.properties.details.maxLength;

/** Why something can be reported, in the document's order (NewReport.reason). */
export const reportReasons = schemas.NewReport.properties.reason.enum;

/** Characters of a moderator's reason for a decision on reports or a sanction (ResolveBody). */
export const sanctionReasonLimit = schemas.ResolveBody.properties.reason.maxLength;

/** Days a suspension may last (ResolveBody.days). */
export const suspensionDays = { min: schemas.ResolveBody.properties.days.minimum, max: schemas.ResolveBody.properties.days.maximum } as const;

/** Of the moderators' record: the actions it can be filtered by (LogEntry.action). */
export const logActions = schemas.LogEntry.properties.action.enum;

/** Of a new password (PasswordChange; ResetConfirm states the same). */
export const passwordLimits = {
  min: schemas.PasswordChange.properties.new_password.minLength,
  max: schemas.PasswordChange.properties.new_password.maxLength,
} as const;

/** Of a token made for scripts or another system (NewToken). */
export const tokenLimits = {
  /** Characters of its name. */
  name: { min: schemas.NewToken.properties.name.minLength, max: schemas.NewToken.properties.name.maxLength },
  /** Days until it expires. */
  days: { min: schemas.NewToken.properties.expires_in_days.minimum, max: schemas.NewToken.properties.expires_in_days.maximum },
} as const;

/** Of a webhook endpoint (CreateBody; PatchBody states the same maxima). */
export const webhookLimits = {
  /** Characters of its URL. */
  url: schemas.CreateBody.properties.url.maxLength,
  /** Characters of its description. */
  description: schemas.CreateBody.properties.description.maxLength,
} as const;

/** The webhook event types, in the document's order (DeliveryJson.event_type). */
export const webhookEventTypes: readonly string[] = schemas.DeliveryJson.properties.event_type.enum;
