import { randomBytes } from 'node:crypto';
import { HoldfastError } from '../errors';
import { normalizeEmail } from './email';

/** OAuth providers Holdfast knows how to link. */
export type IdentityProvider = 'github' | 'google' | (string & {});

/** A user as stored. `passwordHash` is null for accounts created through OAuth only. */
export interface User {
  readonly id: string;
  /** Normalised (see normalizeEmail). */
  readonly email: string;
  readonly name: string;
  readonly passwordHash: string | null;
  readonly emailVerified: boolean;
  readonly createdAt: number;
  readonly passwordChangedAt: number | null;
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
  setPasswordHash(id: string, passwordHash: string, changedAt: number): Promise<void>;
  /** Marks the email verified (an OAuth provider vouched for it). */
  markEmailVerified(id: string): Promise<void>;
  findByIdentity(provider: IdentityProvider, subject: string): Promise<User | null>;
  /** Links a provider account to a user; false if it is already linked to another user. */
  linkIdentity(provider: IdentityProvider, subject: string, userId: string): Promise<boolean>;
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
