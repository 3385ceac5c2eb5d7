import { KeyfenceError } from '@keyfence/core';
import { IdentityErrorCode } from '../errors.js';

/** The parts of an IAM role ARN that a session policy needs: its partition and account. */
export interface RoleArn {
  arn: string;
  partition: string;
  accountId: string;
  roleName: string;
}

const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** Parses `arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME`, or throws a user error naming the input. */
export function parseRoleArn(value: string, inputName = 'role-to-assume'): RoleArn {
  const match = ROLE_ARN.exec(value.trim());
  if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined) {
    throw new KeyfenceError(
      IdentityErrorCode.AWS_ROLE_INVALID,
      `${inputName} is not an IAM role ARN: "${value}".`,
      {
        hint: 'Give the full ARN, e.g. arn:aws:iam::123456789012:role/github-deploy (arn:aws-cn:... and arn:aws-us-gov:... work too).',
      },
    );
  }
  return { arn: value.trim(), partition: match[1], accountId: match[2], roleName: match[3] };
}
