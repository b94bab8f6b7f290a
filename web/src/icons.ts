// Player icons as inline SVG (no icon font, no emoji: both may be missing on the viewer's machine).

const svg = (path: string) =>
  `<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="currentColor">${path}</svg>`;

export const icons = {
  play: svg('<path d="M8 5v14l11-7z"/>'),
  pause: svg('<path d="M6 5h4v14H6zM14 5h4v14h-4z"/>'),
  volume: svg('<path d="M4 9v6h4l5 4V5L8 9H4zm12.5 3a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4z"/>'),
  muted: svg('<path d="M4 9v6h4l5 4V5L8 9H4zm12.6 3 2.7-2.7-1.4-1.4-2.7 2.7-2.7-2.7-1.4 1.4 2.7 2.7-2.7 2.7 1.4 1.4 2.7-2.7 2.7 2.7 1.4-1.4z"/>'),
  fullscreen: svg('<path d="M5 5h5v2H7v3H5zm9 0h5v5h-2V7h-3zM5 14h2v3h3v2H5zm12 0h2v5h-5v-2h3z"/>'),
};

/** Sets a button's icon (one of ours, never user text). */
export function setIcon(el: HTMLElement, name: keyof typeof icons): void {
  if (el.dataset.icon !== name) {
    el.innerHTML = icons[name];
    el.dataset.icon = name;
  }
}
