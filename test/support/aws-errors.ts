/**
 * Errors as the AWS SDK v3 raises them from a real service answer: the service's exception class,
 * the error code as `name`, `$fault` and the HTTP status in `$metadata`. Handler code that reads
 * `name`, `$metadata.httpStatusCode` or `instanceof` sees what it would see against AWS.
 *
 * EC2 (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html): client
 * errors carry a 400-series status, server errors (InternalError, Unavailable) a 500-series one;
 * throttling is the client error RequestLimitExceeded. Eventual consistency shows as
 * `Invalid<Resource>.NotFound` for a resource just created
 * (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
 */
import { EC2ServiceException } from '@aws-sdk/client-ec2';

/** An EC2 client error (HTTP 400), e.g. `InvalidSnapshot.NotFound`, `InvalidSnapshot.InUse`. */
export function ec2ClientError(code: string, message: string): EC2ServiceException {
  return new EC2ServiceException({ name: code, message, $fault: 'client', $metadata: { httpStatusCode: 400, requestId: 'test-request' } });
}

/** An EC2 server error: `InternalError` (HTTP 500) or `Unavailable` (HTTP 503). */
export function ec2ServerError(code: 'InternalError' | 'Unavailable'): EC2ServiceException {
  return new EC2ServiceException({
    name: code,
    message: code === 'InternalError' ? 'An internal error has occurred.' : 'The server is overloaded and can\'t handle the request.',
    $fault: 'server',
    $metadata: { httpStatusCode: code === 'InternalError' ? 500 : 503, requestId: 'test-request' },
  });
}
