import { fetchSecrets } from './fetch.js';
import { reportFailure } from './report.js';
import { createRunner } from './runner.js';

// The SDK warns that future versions need a newer Node; the user of an action cannot act on that.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
const runner = createRunner();
void fetchSecrets({ runner, env: process.env }).catch((error: unknown) => reportFailure(runner, error));
