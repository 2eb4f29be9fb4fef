export { holdfastScheme, MAX_NEXT_LENGTH, safeNext, SCHEME } from './scheme';
export type { HoldfastCredentials, RedirectOptions, SchemeOptions } from './scheme';
export { cookieNames, cookiePasswordKey, defineCookies, hostPrefixed } from './cookies';
export type { CookieKeyPurpose, CookieNames } from './cookies';
export { clientAddress, clientInfo, TrustedProxies } from './client';
export { holdfastCookieValidate, sessionToken } from './cookie-adapter';
export type { CookieSessionValue, CookieValidateOptions } from './cookie-adapter';
