import type { Request } from '@hapi/hapi';
import type { ClientInfo } from '../session';
import { deviceLabel } from '../session';

/**
 * Where a request comes from. Behind a proxy (throttle.trustProxy) the address is the last
 * X-Forwarded-For entry, the one our own proxy appended; earlier entries are client-controlled.
 * The User-Agent header is kept only as a short device label ("Firefox 130 on Linux",
 * session/device.ts): that is what the session list shows, and all a session record stores.
 */
export function clientInfo(request: Request, trustProxy: boolean): ClientInfo {
  let ip = request.info.remoteAddress ?? '';
  if (trustProxy) {
    const xff = request.headers['x-forwarded-for'];
    const last = typeof xff === 'string' ? xff.split(',').pop()?.trim() : undefined;
    if (last && last.length <= 64) ip = last;
  }
  const ua = request.headers['user-agent'];
  return { ip, userAgent: deviceLabel(typeof ua === 'string' ? ua : undefined) };
}
