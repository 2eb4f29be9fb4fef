import { DEVICE_LABEL_BYTES, deviceLabel } from '../../../src/session/device';

// Real User-Agent headers, as browsers and tools send them.
const TABLE: ReadonlyArray<readonly [label: string, userAgent: string]> = [
  [
    'Firefox 130 on Linux',
    'Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0',
  ],
  [
    'Firefox 128 on Linux',
    'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  ],
  [
    'Firefox 121 on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0',
  ],
  [
    'Firefox 121 on macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0',
  ],
  [
    'Firefox 121 on Android',
    'Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0',
  ],
  [
    'Firefox 121 on iOS',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15',
  ],
  [
    'Chrome 120 on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  ],
  [
    'Chrome 120 on macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  ],
  [
    'Chrome 120 on Linux',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  ],
  [
    'Chrome 120 on Android',
    'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
  ],
  [
    'Chrome 120 on Android',
    'Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A.230901.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.43 Mobile Safari/537.36',
  ],
  [
    'Chrome 120 on iOS',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1',
  ],
  [
    'Chrome 119 on ChromeOS',
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36',
  ],
  [
    'Headless Chrome 120 on Linux',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.28 Safari/537.36',
  ],
  [
    'Safari 17 on macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
  ],
  [
    'Safari 17 on iOS',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
  ],
  [
    'Safari 16 on iOS',
    'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1',
  ],
  [
    'Edge 120 on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91',
  ],
  [
    'Edge 120 on Android',
    'Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36 EdgA/120.0.2210.115',
  ],
  [
    'Edge 18 on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582',
  ],
  [
    'Opera 106 on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0',
  ],
  [
    'Samsung Internet 23 on Android',
    'Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36',
  ],
  [
    'Yandex 23 on Windows',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 YaBrowser/23.11.0.0 Safari/537.36',
  ],
  [
    'Vivaldi 6 on Linux',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Vivaldi/6.5.3206.48',
  ],
  [
    'Electron 28 on macOS',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.36.140 Chrome/120.0.6099.56 Electron/28.0.0 Safari/537.36',
  ],
  [
    'Internet Explorer 11 on Windows',
    'Mozilla/5.0 (Windows NT 10.0; WOW64; Trident/7.0; rv:11.0) like Gecko',
  ],
  [
    'Internet Explorer 9 on Windows',
    'Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)',
  ],
  ['curl 8', 'curl/8.5.0'],
  ['Wget 1', 'Wget/1.21.4'],
  ['HTTPie 3', 'HTTPie/3.2.2'],
  ['Postman 7', 'PostmanRuntime/7.36.0'],
  ['python-requests 2', 'python-requests/2.31.0'],
  ['okhttp 4', 'okhttp/4.12.0'],
  ['Go 1', 'Go-http-client/1.1'],
  ['axios 1', 'axios/1.6.2'],
  ['node-fetch 1', 'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)'],
  ['Node.js', 'node'],
  // Unknown: the first 40 characters.
  ['Second/1.0', 'Second/1.0'],
  [
    'Mozilla/5.0 (compatible; Googlebot/2.1; ',
    'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  ],
  [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36',
  ],
  ['', ''],
];

describe('deviceLabel', () => {
  it.each(TABLE)('says %j for %j', (label, userAgent) => {
    expect(deviceLabel(userAgent)).toBe(label);
  });

  it('says nothing for no header', () => {
    expect(deviceLabel(undefined)).toBe('');
    expect(deviceLabel('   ')).toBe('');
  });

  it('never exceeds 48 bytes of UTF-8, cut on a character boundary', () => {
    expect(DEVICE_LABEL_BYTES).toBe(48);
    const wide = deviceLabel('€'.repeat(100)); // 40 characters would be 120 bytes
    expect(wide).toBe('€'.repeat(16));
    expect(Buffer.byteLength(wide)).toBeLessThanOrEqual(48);
    for (const [, ua] of TABLE) expect(Buffer.byteLength(deviceLabel(ua))).toBeLessThanOrEqual(48);
    expect(deviceLabel('x'.repeat(10_000))).toBe('x'.repeat(40));
  });

  it('drops control characters and surrounding space', () => {
    expect(deviceLabel(' \tWeird\u0000Agent/1 ')).toBe('Weird Agent/1');
  });
});
