import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from "react";

/**
 * A router of a few lines: the path is the state, `navigate` pushes history, `<Link>` is an `<a>`
 * that navigates without a reload. The app has a handful of routes; a library would weigh more
 * than all of them.
 */

const listeners = new Set<() => void>();

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

window.addEventListener("popstate", () => {
  for (const listener of listeners) listener();
});

/** The current `location.pathname` (and search), re-rendering on navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
  return { path: location.pathname, search: new URLSearchParams(location.search) };
}

/**
 * Matches a path against a pattern with `:params` and an optional trailing `*`.
 *
 * @example match("/app/members/:id", "/app/members/42") // { id: "42" }
 */
export function match(pattern: string, path: string): Record<string, string> | null {
  const wildcard = pattern.endsWith("/*");
  const parts = (wildcard ? pattern.slice(0, -2) : pattern).split("/").filter(Boolean);
  const segments = path.split("/").filter(Boolean);
  if (wildcard ? segments.length < parts.length : segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of parts.entries()) {
    const segment = segments[i] ?? "";
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(segment);
    else if (part !== segment) return null;
  }
  return params;
}

export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    if (!href.startsWith("/")) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={handle} {...rest} />;
}
