// Redirects go only to paths of this site. A path from a URL or a form (?next=) is parsed the way a
// browser would read it, and anything that could leave the site — a scheme, '//host', '/\host', or
// control characters, which browsers drop (so '/\t/host' becomes '//host') — falls back to a default.

const PROBE = 'http://same-origin.invalid';

/** `next` as a same-origin path (path, query, fragment), or `fallback`. */
export function sameOriginPath(next: string | null | undefined, fallback = '/screen'): string {
  if (!next || !next.startsWith('/')) return fallback;
  // eslint-disable-next-line no-control-regex -- exactly the characters a browser strips or splits a header on
  if (/[\u0000-\u001f\u007f\\]/.test(next) || next.startsWith('//')) return fallback;
  let url: URL;
  try {
    url = new URL(next, PROBE);
  } catch {
    return fallback;
  }
  if (url.origin !== PROBE) return fallback;
  const path = url.pathname + url.search + url.hash;
  return path.startsWith('//') ? fallback : path;
}

/** A request's own path with any run of leading slashes made one ('//host/x' would leave the site). */
export function ownPath(pathname: string): string {
  return '/' + pathname.replace(/^[/\\]+/, '');
}
