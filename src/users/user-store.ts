import { randomBytes } from 'node:crypto';
import { HoldfastError } from '../errors';
import { normalizeEmail } from './email';

/** OAuth providers Holdfast knows how to link. */
export type IdentityProvider = 'github' | 'google' | (string & {});

/** A provider account linked to a user: at most one per provider per user. */
export interface LinkedIdentity {
  readonly provider: IdentityProvider;
  /** The provider's stable account id. */
  readonly subject: string;
}

/** A user as stored. `passwordHash` is null for accounts created through OAuth only. */
export interface User {
  readonly id: string;
  /** Normalised (see normalizeEmail). */
  readonly email: string;
  readonly name: string;
  readonly passwordHash: string | null;
  /**
   * The account holder proved the address: Holdfast's own verification, or a provider's verified
   * email when the account was created by that provider's sign-in (nobody held it before). A
   * provider's word never sets it on an existing account (docs/adr/060).
   */
  readonly emailVerified: boolean;
  readonly createdAt: number;
  readonly passwordChangedAt: number | null;
  /**
   * Goes up by one at every credential change (password change or reset, disable): sessions carry
   * the version they were made under, and the session store refuses any below the user's latest
   * (ADR 040). A re-hash of the same password does not change it. 0 for a new user. Only a
   * credential change may raise it: a sign-in under a version above the store's epoch ends every
   * session made under an older one (ADR 273).
   */
  readonly credentialVersion: number;
  /** A disabled user cannot sign in; disabling ends every session and remember-me series. */
  readonly disabled: boolean;
  /**
   * What the user may do in the host app: `request.auth.credentials.scope` on routes with an
   * `auth.scope` (ADR 086). Names match ROLE_NAME; at most MAX_ROLES. [] for a new user.
   */
  readonly roles: readonly string[];
}

/** A role name: what hapi's `auth.scope` compares, so none starts with its `!`/`+` markers. */
export const ROLE_NAME = /^[a-z0-9][a-z0-9_.:-]{0,31}$/;
/** Roles per user: scope is checked on every scoped request, so the list stays short. */
export const MAX_ROLES = 16;

/**
 * What a password write expects to replace (compare-and-set): the hash that was just verified
 * (a re-hash of the same password), or the credential version that was read (a change).
 */
export type PasswordExpectation =
  { readonly expectedHash: string } | { readonly expectedVersion: number };

export interface PasswordWrite {
  /** A change (true) raises the credential version; a re-hash (false) keeps it. */
  readonly bumpVersion: boolean;
  readonly changedAt: number;
}

export interface NewUser {
  readonly email: string;
  readonly name?: string;
  readonly passwordHash: string | null;
  readonly emailVerified?: boolean;
}

/** What an API response or a page may show of a user: never the password hash. */
export interface PublicUser {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly emailVerified: boolean;
  readonly createdAt: string;
}

/** A user record as every store creates it: random 128-bit id, normalised email. */
export function newUser(input: NewUser, now: number): User {
  return {
    id: randomBytes(16).toString('base64url'),
    email: normalizeEmail(input.email),
    name: input.name ?? '',
    passwordHash: input.passwordHash,
    emailVerified: input.emailVerified ?? false,
    createdAt: now,
    passwordChangedAt: input.passwordHash ? now : null,
    credentialVersion: 0,
    disabled: false,
    roles: [],
  };
}

export function publicUser(u: User): PublicUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    emailVerified: u.emailVerified,
    createdAt: new Date(u.createdAt).toISOString(),
  };
}

/**
 * Where users live. A host app may pass its own implementation to the plugin. Every method throws
 * StoreUnavailableError when its store cannot answer (the plugin answers 503, never 401).
 */
export interface UserStore {
  /** Creates a user with a fresh id; throws UserExistsError when the (normalised) email is taken. */
  create(user: NewUser): Promise<User>;
  findById(id: string): Promise<User | null>;
  /** `email` is normalised by the store too, so any spelling finds the account. */
  findByEmail(email: string): Promise<User | null>;
  /**
   * Writes a password hash only if the stored record still matches `expected` (one atomic step),
   * so a re-hash never writes an old password over a newer one and two changes never both apply.
   * Returns the credential version after the write; null when nothing was written (no such user,
   * or the stored hash or version is no longer the expected one).
   */
  updatePassword(
    id: string,
    expected: PasswordExpectation,
    passwordHash: string,
    write: PasswordWrite,
  ): Promise<number | null>;
  /** Marks the user disabled and raises the credential version; the new version, null if no such user. */
  disable(id: string): Promise<number | null>;
  /**
   * Clears the disabled flag; the credential version stays (sessions and series ended by the
   * disable stay ended). False when there is no such user.
   */
  enable(id: string): Promise<boolean>;
  /**
   * Deletes the user record (roles with it), frees the email address and releases every linked
   * provider identity (each can then be linked to another user); returns the credential version
   * the record had (null if there was none).
   */
  delete(id: string): Promise<number | null>;
  /**
   * Removes the password and raises the credential version (a merge ends the password of whoever
   * never proved the address); the new version, null if no such user.
   */
  clearPassword(id: string, changedAt: number): Promise<number | null>;
  /**
   * Replaces the user's roles (already checked against ROLE_NAME and MAX_ROLES); false when there
   * is no such user. Never creates a record.
   */
  setRoles(id: string, roles: readonly string[]): Promise<boolean>;
  /**
   * Marks the email verified: only once Holdfast itself proved the address, never on a provider's
   * word. With `expected`, only while the record still holds that address and is not disabled
   * (one atomic step: an emailed verification link). True when the record is marked.
   */
  markEmailVerified(id: string, expected?: { readonly email: string }): Promise<boolean>;
  findByIdentity(provider: IdentityProvider, subject: string): Promise<User | null>;
  /**
   * Links a provider account to a user. False when it is linked to another user, or when the user
   * already has another account of this provider (one per provider); true when already linked.
   */
  linkIdentity(provider: IdentityProvider, subject: string, userId: string): Promise<boolean>;
  /** The provider accounts linked to the user. */
  listIdentities(userId: string): Promise<LinkedIdentity[]>;
  /** Unlinks the user's account of `provider`; false when none was linked. */
  unlinkIdentity(provider: IdentityProvider, userId: string): Promise<boolean>;
}

export class UserExistsError extends HoldfastError {
  constructor() {
    super(
      'HF_USER_EXISTS',
      'a user with this email address already exists: log in, or register another email',
    );
  }
}

export class UserInputError extends HoldfastError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('HF_USER_INVALID', `${field}: ${message}`);
  }
}
