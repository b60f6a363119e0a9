// Who is using the page: a customer (whose id every order call names) or
// the warehouse, and the bearer token sent with every call, if any. Kept in
// sessionStorage, so a reload keeps it and closing the tab forgets it.

export type Role = "customer" | "warehouse";

export interface Session {
  /** The customer id (the token's subject), or "warehouse". */
  subject: string;
  /** The bearer token; none when the server runs without authentication. */
  token?: string;
  /** When the token expires, in milliseconds since the epoch. */
  expiresAt?: number;
}

const key = (role: Role) => `orders.session.${role}`;

export function loadSession(role: Role): Session | undefined {
  try {
    const session = JSON.parse(sessionStorage.getItem(key(role)) ?? "null") as Session | null;
    if (!session || typeof session.subject !== "string") return undefined;
    if (session.expiresAt !== undefined && session.expiresAt <= Date.now()) return undefined;
    return session;
  } catch {
    return undefined;
  }
}

export function saveSession(role: Role, session: Session | undefined): void {
  if (session) sessionStorage.setItem(key(role), JSON.stringify(session));
  else sessionStorage.removeItem(key(role));
}

/** A failed sign-in, with a sentence for the person. */
export class SignInError extends Error {}

/**
 * A development token from the server (POST /dev/token), which hands them
 * out only when it runs with the development HS256 secret.
 */
export async function developmentSignIn(subject: string, role: Role): Promise<Session> {
  let response: Response;
  try {
    response = await fetch("/dev/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ subject, role }),
    });
  } catch {
    throw new SignInError("The server could not be reached to sign you in. Check your connection and try again.");
  }
  if (response.status === 404) {
    throw new SignInError(
      "This server does not hand out development sign-ins (it runs without the development secret): paste a token instead.",
    );
  }
  const body = (await response.json().catch(() => ({}))) as { token?: string; expiresInSeconds?: number; error?: string };
  if (!response.ok || typeof body.token !== "string") {
    throw new SignInError(`The server refused to sign you in: ${body.error ?? `it answered ${response.status}`}.`);
  }
  const expiresAt = Date.now() + (body.expiresInSeconds ?? 3600) * 1000;
  return { subject, token: body.token, expiresAt };
}

/**
 * A session from a token a person pasted: its subject and expiry are read
 * from its claims (unverified: the server verifies every call).
 */
export function sessionFromToken(pasted: string): Session {
  const token = pasted.trim().replace(/^Bearer\s+/i, "");
  const parts = token.split(".");
  if (parts.length !== 3) throw new SignInError("That is not a token: a token has three parts separated by dots.");
  let claims: { sub?: unknown; exp?: unknown };
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    claims = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new SignInError("That token's claims cannot be read: copy the whole token and try again.");
  }
  if (typeof claims.sub !== "string" || claims.sub === "") {
    throw new SignInError("That token names nobody (it has no subject).");
  }
  const expiresAt = typeof claims.exp === "number" ? claims.exp * 1000 : undefined;
  if (expiresAt !== undefined && expiresAt <= Date.now()) {
    throw new SignInError("That token has expired: get a new one.");
  }
  return { subject: claims.sub, token, expiresAt };
}
