// The API token: a JWT signed HS256 with the API secret, sent in `Authorization` with or
// without `Bearer ` (Cube's client sends it bare). Its payload is the security context.
import { jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { ForbiddenError } from './errors.ts';

export type SecurityContext = Record<string, unknown>;

export function tokenFromHeaders(headers: Headers): string | undefined {
  const raw = headers.get('x-cube-authorization') ?? headers.get('authorization');
  if (!raw) return undefined;
  const parts = raw.trim().split(' ');
  const token = parts.length === 1 ? parts[0] : parts.slice(1).join(' ').trim();
  return token || undefined;
}

const keys = new Map<string, Uint8Array>();
const keyFor = (secret: string) => {
  let k = keys.get(secret);
  if (!k) {
    k = new TextEncoder().encode(secret);
    keys.set(secret, k);
  }
  return k;
};

/** Verify the token; 403 "Authorization header isn't set" / "Invalid token" like Cube. */
export async function verifyToken(token: string | undefined, secret: string): Promise<SecurityContext> {
  if (!token) throw new ForbiddenError("Authorization header isn't set");
  if (!secret) throw new ForbiddenError('Invalid token');
  try {
    // A token must expire: one without `exp` would be good for ever once leaked.
    const { payload } = await jwtVerify(token, keyFor(secret), { algorithms: ['HS256'], requiredClaims: ['exp'] });
    return payloadToContext(payload);
  } catch {
    throw new ForbiddenError('Invalid token');
  }
}

function payloadToContext(payload: JWTPayload): SecurityContext {
  // Cube's legacy `u` property carries the context of old tokens.
  const p = payload as Record<string, unknown>;
  if (p.u && typeof p.u === 'object') {
    const { u, ...rest } = p;
    return { ...rest, ...(u as Record<string, unknown>) };
  }
  return p;
}

/** Issue a token for a security context (dashboard server side and tests). */
export async function signToken(context: SecurityContext, secret: string, expiresIn: string | number = '1h'): Promise<string> {
  return new SignJWT({ ...context })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(keyFor(secret));
}
