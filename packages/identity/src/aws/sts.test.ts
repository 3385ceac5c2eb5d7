import {
  AssumeRoleCommand,
  AssumeRoleWithWebIdentityCommand,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { KeyfenceError, SecretValue } from '@keyfence/core';
import { describe, expect, it, vi } from 'vitest';
import { assumeRoleWithCurrentCredentials, assumeRoleWithWebIdentity, type StsClientLike } from './sts.js';
import { isRetryableStsError } from './sts-errors.js';

const ROLE = 'arn:aws:iam::123456789012:role/deploy';

/** An STS service error as the SDK raises it: the wire code as name, the HTTP status in $metadata. */
function stsError(name: string, message: string, status = 400): STSServiceException {
  return new STSServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

const OUTPUT = {
  Credentials: {
    AccessKeyId: 'access-key-id-value',
    SecretAccessKey: 'secret-access-key-value',
    SessionToken: 'session-token-value',
    Expiration: new Date('2030-01-01T00:00:00Z'),
  },
  AssumedRoleUser: {
    Arn: 'arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions',
    AssumedRoleId: 'AROA:x',
  },
  $metadata: {},
};

/** A fake STS client at the SDK-client level: fails with the given errors in turn, then answers OUTPUT. */
function fakeClient(...failures: Error[]) {
  const commands: unknown[] = [];
  const send = vi.fn(async (command: unknown) => {
    commands.push(command);
    const failure = failures.shift();
    if (failure !== undefined) throw failure;
    return OUTPUT;
  });
  return { client: { send } as unknown as StsClientLike, commands, send };
}

/** Retry settings with an instant sleep and a clock the sleeps advance, so tests run in no time. */
function instantRetry(timeoutMs = 120_000) {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    retry: {
      retries: 7,
      timeoutMs,
      random: () => 1,
      now: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
    },
  };
}

const token = new SecretValue('header.payload.signature');
const params = { roleArn: ROLE, sessionName: 'GitHubActions', durationSeconds: 900, webIdentityToken: token };

describe('assumeRoleWithWebIdentity', () => {
  it('sends the role, session, duration, token and session policies, and masks every credential before returning', async () => {
    const { client, commands } = fakeClient();
    const masked: string[] = [];
    const credentials = await assumeRoleWithWebIdentity(
      {
        ...params,
        inlineSessionPolicy: '{"Version":"2012-10-17"}',
        managedSessionPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      },
      { client, onSecret: (secret) => masked.push(secret.reveal()), retry: instantRetry().retry },
    );
    const command = commands[0] as AssumeRoleWithWebIdentityCommand;
    expect(command).toBeInstanceOf(AssumeRoleWithWebIdentityCommand);
    expect(command.input).toEqual({
      RoleArn: ROLE,
      RoleSessionName: 'GitHubActions',
      DurationSeconds: 900,
      Policy: '{"Version":"2012-10-17"}',
      PolicyArns: [{ arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      WebIdentityToken: 'header.payload.signature',
    });
    expect(masked).toEqual(['access-key-id-value', 'secret-access-key-value', 'session-token-value']);
    expect(credentials.secretAccessKey).toBeInstanceOf(SecretValue);
    expect(String(credentials.sessionToken)).toBe('[REDACTED]');
    expect(credentials.assumedRoleArn).toBe('arn:aws:sts::123456789012:assumed-role/deploy/GitHubActions');
    expect(credentials.expiration?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('leaves out the session policies when none are given', async () => {
    const { client, commands } = fakeClient();
    await assumeRoleWithWebIdentity(
      { ...params, managedSessionPolicyArns: [] },
      { client, onSecret: () => {}, retry: instantRetry().retry },
    );
    const input = (commands[0] as AssumeRoleWithWebIdentityCommand).input;
    expect(input).not.toHaveProperty('Policy');
    expect(input).not.toHaveProperty('PolicyArns');
  });

  it.each([
    ['Throttling', 'Rate exceeded', 400],
    ['IDPCommunicationError', "Couldn't retrieve verification key from your identity provider", 400],
    ['InvalidIdentityToken', "Couldn't retrieve verification key from your identity provider", 400],
    ['ServiceUnavailable', 'try later', 503],
  ])('retries %s with jittered backoff until it succeeds', async (name, message, status) => {
    const { client, send } = fakeClient(stsError(name, message, status), stsError(name, message, status));
    const timing = instantRetry();
    await assumeRoleWithWebIdentity(params, { client, onSecret: () => {}, retry: timing.retry });
    expect(send).toHaveBeenCalledTimes(3);
    expect(timing.sleeps).toHaveLength(2);
  });

  it('retries a network failure of the STS endpoint', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const { client, send } = fakeClient(reset);
    await assumeRoleWithWebIdentity(params, { client, onSecret: () => {}, retry: instantRetry().retry });
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('stops at once on AccessDenied, with a hint quoting the token audience and subject', async () => {
    const { client, send } = fakeClient(
      stsError('AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity', 403),
    );
    const error = await assumeRoleWithWebIdentity(params, {
      client,
      onSecret: () => {},
      retry: instantRetry().retry,
      claims: {
        sub: 'repo:o/r:pull_request',
        aud: 'sts.amazonaws.com',
        iss: 'https://token.actions.githubusercontent.com',
      },
    }).catch((thrown: unknown) => thrown);
    expect(send).toHaveBeenCalledTimes(1);
    expect(error).toBeInstanceOf(KeyfenceError);
    const { message, hint, code } = error as KeyfenceError;
    expect(code).toBe('AWS_ASSUME_ROLE_FAILED');
    expect(message).toContain(ROLE);
    expect(message).toContain('AccessDenied');
    expect(hint).toContain('"token.actions.githubusercontent.com:sub" matching "repo:o/r:pull_request"');
    expect(hint).toContain('"token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"');
  });

  it('gives up at the overall deadline, not after every retry', async () => {
    const failures = Array.from({ length: 20 }, () => stsError('Throttling', 'Rate exceeded'));
    const { client, send } = fakeClient(...failures);
    const timing = instantRetry(1_000);
    const error = await assumeRoleWithWebIdentity(params, {
      client,
      onSecret: () => {},
      retry: { ...timing.retry, retries: 19 },
    }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(KeyfenceError);
    expect(timing.sleeps.reduce((sum, ms) => sum + ms, 0)).toBeLessThan(1_000);
    expect(send.mock.calls.length).toBeLessThan(20);
  });

  it('reports STS answering without credentials', async () => {
    const send = vi.fn(async () => ({ $metadata: {} }));
    await expect(
      assumeRoleWithWebIdentity(params, { client: { send } as unknown as StsClientLike, onSecret: () => {} }),
    ).rejects.toThrow('STS answered without credentials');
  });
});

describe('assumeRoleWithCurrentCredentials (role chaining)', () => {
  it('calls AssumeRole, not the web-identity exchange', async () => {
    const { client, commands } = fakeClient();
    await assumeRoleWithCurrentCredentials(
      { roleArn: ROLE, sessionName: 's1' },
      { client, onSecret: () => {} },
    );
    expect(commands[0]).toBeInstanceOf(AssumeRoleCommand);
    expect((commands[0] as AssumeRoleCommand).input).toEqual({ RoleArn: ROLE, RoleSessionName: 's1' });
  });

  it('explains AccessDenied in terms of the chained role', async () => {
    const { client } = fakeClient(stsError('AccessDenied', 'not authorized to perform sts:AssumeRole', 403));
    const error = (await assumeRoleWithCurrentCredentials(
      { roleArn: ROLE, sessionName: 's1' },
      { client, onSecret: () => {} },
    ).catch((thrown: unknown) => thrown)) as KeyfenceError;
    expect(error.hint).toContain('sts:AssumeRole on');
    expect(error.hint).toContain('3600');
  });
});

describe('isRetryableStsError', () => {
  it.each([
    [stsError('Throttling', 'Rate exceeded'), true],
    [stsError('ThrottlingException', 'x'), true],
    [stsError('IDPCommunicationErrorException', 'x'), true],
    [
      stsError(
        'InvalidIdentityTokenException',
        "Couldn't retrieve verification key from your identity provider",
      ),
      true,
    ],
    [
      stsError(
        'InvalidIdentityTokenException',
        'No OpenIDConnect provider found in your account for https://x',
      ),
      false,
    ],
    [stsError('InvalidIdentityTokenException', 'Incorrect token audience'), false],
    [stsError('AccessDenied', 'nope', 403), false],
    [stsError('ExpiredTokenException', 'Token expired'), false],
    [stsError('ValidationError', 'bad duration'), false],
    [stsError('InternalFailure', 'x', 500), true],
    [stsError('Whatever', 'x', 502), true],
    [stsError('Whatever', 'x', 429), true],
    [Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), true],
    [new Error('plain'), false],
    ['not an error', false],
  ])('%s -> %s', (error, expected) => {
    expect(isRetryableStsError(error)).toBe(expected);
  });
});
