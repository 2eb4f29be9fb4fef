/**
 * An emailed link: mail.linkBase (the public origin, a setting) + the page path + its query.
 * Never built from a request's Host header, which the sender of the request controls (a poisoned
 * Host would mail the victim a link to the attacker's site, carrying the victim's token).
 */
export function mailLink(
  linkBase: string,
  path: string,
  query: Readonly<Record<string, string>> = {},
): string {
  const q = new URLSearchParams(query).toString();
  return `${linkBase}${path}${q ? `?${q}` : ''}`;
}
