/**
 * A short device label from a User-Agent header, for the user's session list: browser family,
 * major version and OS family ("Firefox 130 on Linux", "Chrome 120 on Android", "Safari 17 on
 * iOS", "curl 8"). Stored in the session record instead of the raw header (about 20 bytes
 * instead of 100 to 250: docs/adr/001-session-record-layout.md). A header naming no known browser
 * or tool keeps its first 40 characters. Never longer than DEVICE_LABEL_BYTES of UTF-8.
 *
 * No dependency and no attempt at completeness: the label helps a person recognise a session,
 * it identifies nothing (a User-Agent is whatever the client sends).
 */
export const DEVICE_LABEL_BYTES = 48;
const UNKNOWN_CHARS = 40;

/** Browsers, most specific first: Edge, Opera and Samsung Internet also say Chrome and Safari. */
const BROWSERS: ReadonlyArray<readonly [name: string, pattern: RegExp]> = [
  ['Edge', /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ['Opera', /\b(?:OPR|OPT|Opera)\/(\d+)/],
  ['Samsung Internet', /\bSamsungBrowser\/(\d+)/],
  ['Yandex', /\bYaBrowser\/(\d+)/],
  ['Vivaldi', /\bVivaldi\/(\d+)/],
  ['UC Browser', /\bUCBrowser\/(\d+)/],
  ['Electron', /\bElectron\/(\d+)/],
  ['Firefox', /\b(?:Firefox|FxiOS)\/(\d+)/],
  ['Headless Chrome', /\bHeadlessChrome\/(\d+)/],
  ['Chrome', /\b(?:Chrome|CriOS)\/(\d+)/],
  ['Internet Explorer', /\bMSIE (\d+)|\bTrident\/.*\brv:(\d+)/],
  ['Safari', /\bVersion\/(\d+)(?:\.\d+)*(?: Mobile\/\w+)? Safari\//],
  // Tools and libraries that call APIs: name and major version only.
  ['curl', /^curl\/(\d+)/],
  ['Wget', /^Wget\/(\d+)/],
  ['HTTPie', /^HTTPie\/(\d+)/],
  ['Postman', /^PostmanRuntime\/(\d+)/],
  ['python-requests', /^python-requests\/(\d+)/],
  ['aiohttp', /^Python\/[\d.]+ aiohttp\/(\d+)/],
  ['okhttp', /^okhttp\/(\d+)/],
  ['Go', /^Go-http-client\/(\d+)/],
  ['axios', /^axios\/(\d+)/],
  ['node-fetch', /^node-fetch(?:\/(\d+))?/],
  ['undici', /^undici(?:\/(\d+))?/],
  ['Java', /^Java\/(\d+)/],
  ['Node.js', /^node$/],
];

/** Operating systems, most specific first: iOS says "like Mac OS X", Android and ChromeOS say Linux. */
const SYSTEMS: ReadonlyArray<readonly [name: string, pattern: RegExp]> = [
  ['iOS', /\b(?:iPhone|iPad|iPod)\b/],
  ['Android', /\bAndroid\b/],
  ['Windows', /\bWindows\b/],
  ['ChromeOS', /\bCrOS\b/],
  ['macOS', /\bMac OS X\b|\bMacintosh\b/],
  ['Linux', /\bLinux\b|\bX11\b/],
  ['FreeBSD', /\bFreeBSD\b/],
];

// Control characters have no place in a label shown to people.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

export function deviceLabel(userAgent: string | undefined): string {
  const ua = (userAgent ?? '').replace(CONTROL, ' ').trim();
  if (!ua) return '';
  for (const [name, pattern] of BROWSERS) {
    const m = pattern.exec(ua);
    if (!m) continue;
    const major = m.slice(1).find((v) => v !== undefined);
    const os = SYSTEMS.find(([, p]) => p.test(ua))?.[0];
    return capBytes(`${name}${major ? ` ${major}` : ''}${os ? ` on ${os}` : ''}`);
  }
  return capBytes([...ua].slice(0, UNKNOWN_CHARS).join(''));
}

/** At most DEVICE_LABEL_BYTES of UTF-8, cut on a character boundary. */
function capBytes(label: string): string {
  if (Buffer.byteLength(label) <= DEVICE_LABEL_BYTES) return label;
  let out = '';
  let bytes = 0;
  for (const ch of label) {
    bytes += Buffer.byteLength(ch);
    if (bytes > DEVICE_LABEL_BYTES) break;
    out += ch;
  }
  return out;
}
