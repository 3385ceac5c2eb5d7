import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ErrorCode, isRetryableHttpStatus, KeyfenceError, retry, SecretValue } from '@keyfence/core';
import type { CredentialLookup } from './docker-config.js';
import {
  type BlobSource,
  checkDigest,
  type Descriptor,
  MANIFEST_ACCEPT,
  type Platform,
  type ResolvedImage,
  resolveImages,
  verified,
} from './oci.js';

/** `host[:port]/repository[:tag][@digest]`, split. */
export interface ImageReference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^\w[\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

/**
 * Parses an image reference. The registry host must be written out: keyfence has no default
 * registry, so a short name can never be sent to a registry nobody meant.
 */
export function parseImageReference(text: string): ImageReference {
  const bad = (why: string): KeyfenceError =>
    new KeyfenceError(ErrorCode.USAGE, `invalid image reference "${text}": ${why}`, {
      hint: 'write HOST[:PORT]/REPOSITORY[:TAG][@DIGEST], e.g. registry.example.com/team/app:1.4',
    });
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw bad('the digest is not ALGORITHM:HEX');
  }
  const slash = rest.indexOf('/');
  const host = slash < 0 ? '' : rest.slice(0, slash);
  if (!host || !(host.includes('.') || host.includes(':') || host === 'localhost')) {
    throw bad('it names no registry host (keyfence has no default registry)');
  }
  let repository = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(':');
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad('the tag may hold letters, digits, _ . - (at most 128)');
  }
  if (!REPO_RE.test(repository)) throw bad('the repository must be lowercase path components');
  const ref: ImageReference = { registry: host, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = 'latest';
  return ref;
}

export interface RegistryOptions {
  /** Plain HTTP instead of HTTPS (hosts named by the `insecure-registry` setting). */
  insecure: boolean;
  credentials: CredentialLookup;
  fetch?: typeof fetch;
  userAgent?: string;
  /** Backoff sleep between retries (tests pass a fast one). */
  sleep?: (ms: number) => Promise<void>;
}

/** Manifests and configs larger than this are refused: real ones are a few KiB. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;

class HttpStatusError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

/** A client for the OCI distribution API: pull only, anonymous or with basic or bearer-token auth. */
export class RegistryClient {
  readonly ref: ImageReference;
  readonly #base: string;
  readonly #options: RegistryOptions;
  readonly #fetch: typeof fetch;
  #authorization: SecretValue | undefined;

  constructor(ref: ImageReference, options: RegistryOptions) {
    this.ref = ref;
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#base = `${options.insecure ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}`;
  }

  /** The manifest (or index) the tag or digest names, with its media type. */
  async manifest(reference: string): Promise<{ mediaType?: string; body: Buffer }> {
    const res = await this.#get(`${this.#base}/manifests/${reference}`, MANIFEST_ACCEPT, `${reference}`);
    const body = await readLimited(res, MAX_JSON_BYTES, 'manifest');
    if (reference.includes(':')) checkDigest(body, reference, `the manifest ${reference}`);
    const type = res.headers.get('content-type')?.split(';')[0]?.trim();
    return type && type !== 'application/json' && type !== 'text/plain'
      ? { mediaType: type, body }
      : { body };
  }

  /** A blob as a source for manifests and configs (read whole) and layers (streamed). */
  blobSource(): BlobSource {
    return {
      read: async (d: Descriptor) => {
        const url = this.#blobUrl(d);
        // The registry serves an OCI manifest only to a client that says it accepts one.
        const res = await this.#get(url, url.includes('/manifests/') ? MANIFEST_ACCEPT : '*/*', d.digest);
        const body = await readLimited(res, MAX_JSON_BYTES, `blob ${d.digest}`);
        checkDigest(body, d.digest, `blob ${d.digest}`);
        return body;
      },
      open: async (d: Descriptor) => {
        const res = await this.#get(this.#blobUrl(d), '*/*', d.digest);
        if (!res.body) return Readable.from([]);
        return verified(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), d.digest);
      },
    };
  }

  #blobUrl(d: Descriptor): string {
    // Manifests inside an index are fetched by digest from the manifests endpoint.
    return d.mediaType && /manifest|index/.test(d.mediaType) && !/layer|config/.test(d.mediaType)
      ? `${this.#base}/manifests/${d.digest}`
      : `${this.#base}/blobs/${d.digest}`;
  }

  async #get(url: string, accept: string, what: string): Promise<Response> {
    let res = await this.#send(url, accept);
    if (res.status === 401) {
      const challenge = res.headers.get('www-authenticate') ?? '';
      await res.body?.cancel();
      await this.#authenticate(challenge);
      res = await this.#send(url, accept);
    }
    if (res.ok) return res;
    await res.body?.cancel();
    throw this.#statusError(res.status, what);
  }

  async #send(url: string, accept: string): Promise<Response> {
    return retry(
      async () => {
        const headers: Record<string, string> = {
          Accept: accept,
          'User-Agent': this.#options.userAgent ?? 'keyfence',
        };
        if (this.#authorization) headers.Authorization = this.#authorization.reveal();
        const res = await this.#fetch(url, { headers, redirect: 'follow' }).catch((e: unknown) => {
          throw this.#networkError(e);
        });
        if (isRetryableHttpStatus(res.status)) {
          await res.body?.cancel();
          throw new HttpStatusError(res.status);
        }
        return res;
      },
      {
        retries: 2,
        baseDelayMs: 200,
        isRetryable: (e) => e instanceof HttpStatusError || (e as { retryable?: boolean }).retryable === true,
        ...(this.#options.sleep ? { sleep: this.#options.sleep } : {}),
      },
    ).catch((e: unknown) => {
      if (e instanceof HttpStatusError) throw this.#statusError(e.status, url);
      throw e;
    });
  }

  async #authenticate(challenge: string): Promise<void> {
    const { registry, repository } = this.ref;
    const scheme = challenge.split(' ')[0]?.toLowerCase();
    const params = parseChallenge(challenge);
    const cred = this.#options.credentials(registry);
    if (scheme === 'basic') {
      if (cred?.kind !== 'basic') throw this.#statusError(401, repository);
      this.#authorization = basic(cred.username, cred.password);
      return;
    }
    if (scheme !== 'bearer' || !params.realm) {
      throw new KeyfenceError(
        ErrorCode.INPUT_UNREADABLE,
        `registry ${registry} asks for unsupported auth "${challenge}"`,
        {
          hint: 'keyfence supports anonymous, basic and bearer-token registry auth',
        },
      );
    }
    const url = new URL(params.realm);
    if (url.protocol !== 'https:' && cred && !this.#options.insecure) {
      throw new KeyfenceError(
        ErrorCode.INPUT_UNREADABLE,
        `the token service of ${registry} (${url.origin}) is not HTTPS; credentials are not sent over plain HTTP`,
        { hint: (names) => `if that is intended, ${names.set('insecure-registry', registry)}` },
      );
    }
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${repository}:pull`);
    let res: Response;
    try {
      if (cred?.kind === 'identity-token') {
        const form = new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: cred.token.reveal(),
          service: params.service ?? '',
          scope: url.searchParams.get('scope') ?? '',
          client_id: 'keyfence',
        });
        res = await this.#fetch(params.realm, { method: 'POST', body: form });
      } else {
        const headers: Record<string, string> = { 'User-Agent': this.#options.userAgent ?? 'keyfence' };
        if (cred?.kind === 'basic') headers.Authorization = basic(cred.username, cred.password).reveal();
        res = await this.#fetch(url, { headers });
      }
    } catch (e) {
      throw this.#networkError(e, url.host);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new KeyfenceError(
        ErrorCode.INPUT_UNREADABLE,
        `the token service of ${registry} refused ${cred ? 'the credentials' : 'anonymous access'} (HTTP ${res.status})`,
        { hint: credentialsHint(registry) },
      );
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) {
      throw new KeyfenceError(
        ErrorCode.INPUT_UNREADABLE,
        `the token service of ${registry} returned no token`,
        {
          hint: 'check the registry’s token service',
        },
      );
    }
    this.#authorization = SecretValue.of(`Bearer ${token}`);
  }

  #statusError(status: number, what: string): KeyfenceError {
    const { registry, repository } = this.ref;
    if (status === 401 || status === 403) {
      return new KeyfenceError(
        ErrorCode.INPUT_UNREADABLE,
        `registry ${registry} denied access to ${repository} (HTTP ${status})`,
        { hint: credentialsHint(registry) },
      );
    }
    if (status === 404) {
      return new KeyfenceError(ErrorCode.INPUT_NOT_FOUND, `${registry}/${repository}: ${what} not found`, {
        hint: 'check the repository name and the tag or digest',
      });
    }
    return new KeyfenceError(
      ErrorCode.INPUT_UNREADABLE,
      `registry ${registry} answered HTTP ${status} for ${what}`,
      {
        hint: 'the registry may be down; try again later',
      },
    );
  }

  #networkError(e: unknown, host = this.ref.registry): KeyfenceError {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (e as Error).message;
    const tls = /SSL|TLS|EPROTO|CERT/i.test(String(why));
    const err = new KeyfenceError(ErrorCode.INPUT_UNREADABLE, `cannot reach registry ${host}: ${why}`, {
      hint:
        tls && !this.#options.insecure
          ? (names) => `if ${host} serves plain HTTP, ${names.set('insecure-registry', host)}`
          : 'check the host, the port and the network',
      cause: e,
    });
    (err as { retryable?: boolean }).retryable = !tls;
    return err;
  }
}

function basic(username: string, password: SecretValue): SecretValue {
  return SecretValue.of(`Basic ${Buffer.from(`${username}:${password.reveal()}`).toString('base64')}`);
}

function credentialsHint(registry: string): string {
  return (
    `log in so that ~/.docker/config.json (or $DOCKER_CONFIG/config.json) holds credentials for ${registry}, ` +
    'e.g. `docker login` or `skopeo login --authfile ~/.docker/config.json`'
  );
}

/** `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"` → its parameters. */
export function parseChallenge(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(\w+)=(?:"([^"]*)"|([^,\s]*))/g;
  for (let m = re.exec(header); m !== null; m = re.exec(header))
    out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}

async function readLimited(res: Response, max: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > max) {
    await res.body?.cancel();
    throw new KeyfenceError(
      ErrorCode.INPUT_UNREADABLE,
      `${what} is ${declared} bytes, more than a ${what} can be`,
      {
        hint: 'the registry returned something that is not an image manifest or config',
      },
    );
  }
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > max) {
    throw new KeyfenceError(ErrorCode.INPUT_UNREADABLE, `${what} is too large (${body.length} bytes)`, {
      hint: 'the registry returned something that is not an image manifest or config',
    });
  }
  return body;
}

/** Resolves a registry image (narrowing an index to the platform) to the images to scan. */
export async function openRegistryImage(
  text: string,
  platform: Platform,
  options: Omit<RegistryOptions, 'insecure'> & { insecureRegistries: readonly string[] },
): Promise<ResolvedImage[]> {
  const ref = parseImageReference(text);
  const host = ref.registry;
  const insecure = options.insecureRegistries.some((h) => h === host || h === host.replace(/:\d+$/, ''));
  const client = new RegistryClient(ref, { ...options, insecure });
  const root = await client.manifest(ref.digest ?? ref.tag ?? 'latest');
  return resolveImages(client.blobSource(), { ...root, name: text }, platform);
}
