import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

const ITERATIONS = 4096;

/**
 * PostgreSQL's SCRAM-SHA-256 verifier for a password (RFC 5802 / 7677), computed client-side so that
 * `ALTER ROLE ... PASSWORD` never carries the plaintext into the server's statement log.
 * Only printable ASCII is accepted: for other text the server applies SASLprep first, and a verifier
 * computed without it would lock the login out.
 */
export function scramSha256Verifier(
  password: string,
  salt: Buffer = randomBytes(16),
  iterations = ITERATIONS,
): string {
  if (!/^[\x20-\x7e]+$/.test(password)) {
    throw new RangeError('a SCRAM verifier is computed here for printable ASCII passwords only');
  }
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
