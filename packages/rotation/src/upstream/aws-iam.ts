import {
  CreateAccessKeyCommand,
  type CreateAccessKeyCommandOutput,
  DeleteAccessKeyCommand,
  type DeleteAccessKeyCommandOutput,
  ListAccessKeysCommand,
  type ListAccessKeysCommandOutput,
  UpdateAccessKeyCommand,
  type UpdateAccessKeyCommandOutput,
} from '@aws-sdk/client-iam';
import { KeyfenceError, SecretValue } from '@keyfence/core';
import { RotationErrorCode } from '../errors.js';
import type { AwsIamUpstreamConfig } from '../runbook/types.js';
import type { RevokeOutcome, Upstream } from './types.js';

/** The IAM calls this upstream makes; tests may hand in a fake at this level. */
export interface IamClientLike {
  send(command: ListAccessKeysCommand): Promise<ListAccessKeysCommandOutput>;
  send(command: CreateAccessKeyCommand): Promise<CreateAccessKeyCommandOutput>;
  send(command: UpdateAccessKeyCommand): Promise<UpdateAccessKeyCommandOutput>;
  send(command: DeleteAccessKeyCommand): Promise<DeleteAccessKeyCommandOutput>;
}

/** Who a pair of keys signs as (STS GetCallerIdentity with those keys). */
export type CallerIdentity = (credentials: {
  accessKeyId: string;
  secretAccessKey: string;
}) => Promise<{ arn?: string }>;

export interface AwsIamUpstreamOptions {
  config: AwsIamUpstreamConfig;
  iam: IamClientLike;
  callerIdentity: CallerIdentity;
}

/** Field names of an access key secret: AWS's (`AccessKeyId`) or camelCase (`accessKeyId`). */
const NAMINGS = [
  { id: 'AccessKeyId', secret: 'SecretAccessKey' },
  { id: 'accessKeyId', secret: 'secretAccessKey' },
] as const;

interface AccessKeySecret {
  fields: Record<string, unknown>;
  naming: (typeof NAMINGS)[number];
  accessKeyId: string;
  secretAccessKey: string;
}

function parseKey(value: SecretValue, what: string): AccessKeySecret {
  let fields: unknown;
  try {
    fields = JSON.parse(value.reveal());
  } catch {
    fields = undefined;
  }
  if (typeof fields === 'object' && fields !== null && !Array.isArray(fields)) {
    const record = fields as Record<string, unknown>;
    for (const naming of NAMINGS) {
      const id = record[naming.id];
      const secret = record[naming.secret];
      if (typeof id === 'string' && typeof secret === 'string') {
        return { fields: record, naming, accessKeyId: id, secretAccessKey: secret };
      }
    }
  }
  throw new KeyfenceError(RotationErrorCode.SECRET_INVALID, `${what} holds no access key.`, {
    hint: 'An access key secret is JSON with AccessKeyId and SecretAccessKey (or accessKeyId and secretAccessKey).',
  });
}

function awsError(error: unknown, action: string): KeyfenceError {
  if (error instanceof KeyfenceError) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new KeyfenceError(
      RotationErrorCode.UPSTREAM_UNREACHABLE,
      `IAM unreachable (${action}): ${message}`,
      { cause: error },
    );
  }
  return new KeyfenceError(
    RotationErrorCode.UPSTREAM_FAILED,
    `IAM ${action} failed: ${name ? `${name}: ` : ''}${message}`,
    { cause: error },
  );
}

/**
 * Rotates an IAM user's access key: a second key is created (IAM allows two), validated by signing a
 * request with it, promoted; the old key is deactivated right after promotion and deleted after the
 * grace period. A key the vault holds as current is never deactivated or deleted.
 */
export class AwsIamAccessKeyUpstream implements Upstream {
  readonly kind = 'aws-iam-access-key';
  readonly replacesCurrent = false;
  // IAM allows two keys: a new rotation needs the previous key gone, so it waits for its grace period.
  readonly reusesPrevious = true;
  readonly #options: AwsIamUpstreamOptions;

  constructor(options: AwsIamUpstreamOptions) {
    this.#options = options;
  }

  get #user(): string {
    return this.#options.config.userName;
  }

  async #call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw awsError(error, action);
    }
  }

  async #keys(): Promise<{ id: string; active: boolean }[]> {
    const listed = await this.#call('ListAccessKeys', () =>
      this.#options.iam.send(new ListAccessKeysCommand({ UserName: this.#user })),
    );
    return (listed.AccessKeyMetadata ?? []).map((key) => ({
      id: key.AccessKeyId ?? '',
      active: key.Status === 'Active',
    }));
  }

  identify(value: SecretValue): string {
    try {
      return `${this.#user} key ${parseKey(value, 'value').accessKeyId}`;
    } catch {
      return `${this.#user} (unparsable value)`;
    }
  }

  async create(current: SecretValue): Promise<SecretValue> {
    const key = parseKey(current, 'The current value');
    const others = (await this.#keys()).filter((other) => other.id !== key.accessKeyId);
    if (others.length > 0) {
      const active = others.filter((other) => other.active);
      if (active.length > 0) {
        throw new KeyfenceError(
          RotationErrorCode.UPSTREAM_FAILED,
          `${this.#user} already has two active access keys: ${key.accessKeyId} (in the vault) and ${active.map((other) => other.id).join(', ')}.`,
          {
            hint: `Deactivate or delete ${active.map((other) => other.id).join(', ')} (a key the vault does not hold, perhaps from a run that crashed right after creating it), then run again.`,
          },
        );
      }
      for (const other of others) {
        await this.#call('DeleteAccessKey', () =>
          this.#options.iam.send(new DeleteAccessKeyCommand({ UserName: this.#user, AccessKeyId: other.id })),
        );
      }
    }
    const created = await this.#call('CreateAccessKey', () =>
      this.#options.iam.send(new CreateAccessKeyCommand({ UserName: this.#user })),
    );
    const id = created.AccessKey?.AccessKeyId;
    const secret = created.AccessKey?.SecretAccessKey;
    if (!id || !secret)
      throw new KeyfenceError(RotationErrorCode.UPSTREAM_FAILED, 'IAM CreateAccessKey returned no key.');
    return new SecretValue(
      JSON.stringify({ ...key.fields, [key.naming.id]: id, [key.naming.secret]: secret }),
    );
  }

  async set(request: { target: SecretValue; current: SecretValue; pending: SecretValue }): Promise<void> {
    const target = parseKey(request.target, 'The value to set');
    const found = (await this.#keys()).find((key) => key.id === target.accessKeyId);
    if (found === undefined) {
      throw new KeyfenceError(
        RotationErrorCode.UPSTREAM_FAILED,
        `Access key ${target.accessKeyId} of ${this.#user} no longer exists.`,
        {
          hint: 'It was deleted outside keyfence; a deleted key cannot come back.',
        },
      );
    }
    // A deactivated key (a rollback target) is switched back on.
    if (!found.active) {
      await this.#call('UpdateAccessKey', () =>
        this.#options.iam.send(
          new UpdateAccessKeyCommand({
            UserName: this.#user,
            AccessKeyId: target.accessKeyId,
            Status: 'Active',
          }),
        ),
      );
    }
  }

  async test(value: SecretValue): Promise<void> {
    const key = parseKey(value, 'The value to test');
    // The status check matters where inactive keys still sign (moto); on AWS the call below would fail.
    const found = (await this.#keys()).find((other) => other.id === key.accessKeyId);
    if (found === undefined || !found.active) {
      throw new KeyfenceError(
        RotationErrorCode.UPSTREAM_FAILED,
        `Access key ${key.accessKeyId} is ${found ? 'inactive' : 'missing'}.`,
      );
    }
    const identity = await this.#call('GetCallerIdentity with the new key', () =>
      this.#options.callerIdentity({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }),
    );
    if (!identity.arn?.endsWith(`:user/${this.#user}`) && !identity.arn?.includes(`/${this.#user}`)) {
      throw new KeyfenceError(
        RotationErrorCode.UPSTREAM_FAILED,
        `The new key signs as ${identity.arn ?? 'nobody'}, not as ${this.#user}.`,
      );
    }
  }

  #guard(request: { previous: SecretValue; current: SecretValue }): string | undefined {
    const previous = parseKey(request.previous, 'The previous value').accessKeyId;
    const current = parseKey(request.current, 'The current value').accessKeyId;
    // Whatever a crash left behind, the key the vault holds as current is never touched.
    return previous === current ? undefined : previous;
  }

  async retire(request: { previous: SecretValue; current: SecretValue }): Promise<void> {
    const previous = this.#guard(request);
    if (previous === undefined) return;
    const found = (await this.#keys()).find((key) => key.id === previous);
    if (found?.active) {
      await this.#call('UpdateAccessKey', () =>
        this.#options.iam.send(
          new UpdateAccessKeyCommand({ UserName: this.#user, AccessKeyId: previous, Status: 'Inactive' }),
        ),
      );
    }
  }

  async revoke(request: { previous: SecretValue; current: SecretValue }): Promise<RevokeOutcome> {
    const previous = this.#guard(request);
    if (previous === undefined) return 'nothing-to-revoke';
    if (!(await this.#keys()).some((key) => key.id === previous)) return 'nothing-to-revoke';
    await this.#call('DeleteAccessKey', () =>
      this.#options.iam.send(new DeleteAccessKeyCommand({ UserName: this.#user, AccessKeyId: previous })),
    );
    return 'revoked';
  }
}
