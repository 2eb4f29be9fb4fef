import type { Request } from '@hapi/hapi';
import type { ClientInfo } from '../session';

const MAX_USER_AGENT = 256;

/**
 * Where a request comes from. Behind a proxy (throttle.trustProxy) the address is the last
 * X-Forwarded-For entry, the one our own proxy appended; earlier entries are client-controlled.
 */
export function clientInfo(request: Request, trustProxy: boolean): ClientInfo {
  let ip = request.info.remoteAddress ?? '';
  if (trustProxy) {
    const xff = request.headers['x-forwarded-for'];
    const last = typeof xff === 'string' ? xff.split(',').pop()?.trim() : undefined;
    if (last && last.length <= 64) ip = last;
  }
  const ua = request.headers['user-agent'];
  return { ip, userAgent: typeof ua === 'string' ? ua.slice(0, MAX_USER_AGENT) : '' };
}
