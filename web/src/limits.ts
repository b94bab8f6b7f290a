// Input limits, read from the server's OpenAPI document at build time: the form allows what the
// server accepts, and a limit the document stops stating fails the type check.
import { components } from "../openapi.json";

const video = components.schemas.NewVideo.properties;

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
