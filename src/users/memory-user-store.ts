import { normalizeEmail } from './email';
import {
  IdentityProvider,
  LinkedIdentity,
  NewUser,
  newUser,
  PasswordExpectation,
  PasswordWrite,
  User,
  UserExistsError,
  UserStore,
} from './user-store';

/** Per-process user store for development and tests; same semantics as the Redis one. */
export class MemoryUserStore implements UserStore {
  private readonly byId = new Map<string, User>();
  private readonly byEmail = new Map<string, string>();
  private readonly identities = new Map<string, string>();
  /** userId -> provider -> subject: what each user sees and may unlink. */
  private readonly linked = new Map<string, Map<string, string>>();

  constructor(private readonly clock: () => number = Date.now) {}

  async create(input: NewUser): Promise<User> {
    const user = newUser(input, this.clock());
    const email = user.email;
    if (this.byEmail.has(email)) throw new UserExistsError();
    this.byEmail.set(email, user.id);
    this.byId.set(user.id, user);
    return user;
  }

  async findById(id: string): Promise<User | null> {
    return this.byId.get(id) ?? null;
  }

  async findByEmail(email: string): Promise<User | null> {
    const id = this.byEmail.get(normalizeEmail(email));
    return id ? (this.byId.get(id) ?? null) : null;
  }

  async updatePassword(
    id: string,
    expected: PasswordExpectation,
    passwordHash: string,
    write: PasswordWrite,
  ): Promise<number | null> {
    const u = this.byId.get(id);
    if (!u) return null;
    const matches =
      'expectedHash' in expected
        ? u.passwordHash === expected.expectedHash
        : u.credentialVersion === expected.expectedVersion;
    if (!matches) return null;
    const credentialVersion = u.credentialVersion + (write.bumpVersion ? 1 : 0);
    this.byId.set(id, {
      ...u,
      passwordHash,
      passwordChangedAt: write.changedAt,
      credentialVersion,
    });
    return credentialVersion;
  }

  async disable(id: string): Promise<number | null> {
    const u = this.byId.get(id);
    if (!u) return null;
    const credentialVersion = u.credentialVersion + 1;
    this.byId.set(id, { ...u, disabled: true, credentialVersion });
    return credentialVersion;
  }

  async enable(id: string): Promise<boolean> {
    const u = this.byId.get(id);
    if (!u) return false;
    this.byId.set(id, { ...u, disabled: false });
    return true;
  }

  async delete(id: string): Promise<number | null> {
    const u = this.byId.get(id);
    if (!u) return null;
    this.byId.delete(id);
    if (this.byEmail.get(u.email) === id) this.byEmail.delete(u.email);
    for (const [provider, subject] of this.linked.get(id) ?? []) {
      const key = `${provider}:${subject}`;
      if (this.identities.get(key) === id) this.identities.delete(key);
    }
    this.linked.delete(id);
    return u.credentialVersion;
  }

  async clearPassword(id: string, changedAt: number): Promise<number | null> {
    const u = this.byId.get(id);
    if (!u) return null;
    const credentialVersion = u.credentialVersion + 1;
    this.byId.set(id, {
      ...u,
      passwordHash: null,
      passwordChangedAt: changedAt,
      credentialVersion,
    });
    return credentialVersion;
  }

  async setRoles(id: string, roles: readonly string[]): Promise<boolean> {
    const u = this.byId.get(id);
    if (!u) return false;
    this.byId.set(id, { ...u, roles: [...roles] });
    return true;
  }

  async markEmailVerified(id: string, expected?: { readonly email: string }): Promise<boolean> {
    const u = this.byId.get(id);
    if (!u) return false;
    if (expected && (u.email !== normalizeEmail(expected.email) || u.disabled)) return false;
    this.byId.set(id, { ...u, emailVerified: true });
    return true;
  }

  async findByIdentity(provider: IdentityProvider, subject: string): Promise<User | null> {
    const id = this.identities.get(`${provider}:${subject}`);
    return id ? (this.byId.get(id) ?? null) : null;
  }

  async linkIdentity(
    provider: IdentityProvider,
    subject: string,
    userId: string,
  ): Promise<boolean> {
    const key = `${provider}:${subject}`;
    const existing = this.identities.get(key);
    if (existing && existing !== userId) return false;
    if (!this.byId.has(userId)) return false;
    const mine = this.linked.get(userId) ?? new Map<string, string>();
    const held = mine.get(provider);
    if (held !== undefined && held !== subject) return false;
    mine.set(provider, subject);
    this.linked.set(userId, mine);
    this.identities.set(key, userId);
    return true;
  }

  async listIdentities(userId: string): Promise<LinkedIdentity[]> {
    return [...(this.linked.get(userId) ?? [])].map(([provider, subject]) => ({
      provider,
      subject,
    }));
  }

  async unlinkIdentity(provider: IdentityProvider, userId: string): Promise<boolean> {
    const mine = this.linked.get(userId);
    const subject = mine?.get(provider);
    if (!mine || subject === undefined) return false;
    const key = `${provider}:${subject}`;
    if (this.identities.get(key) === userId) this.identities.delete(key);
    mine.delete(provider);
    return true;
  }
}
