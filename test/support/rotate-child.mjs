// A rotation in a process of its own, killed with SIGKILL right after one named step took effect:
// the harshest crash there is (no finally block, no lock release). The test then runs again and checks
// that the rotation converges. Arguments: one JSON object {endpoint, runbook, killAfter: {on, method}}.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { checkRunbooks, MemoryAudit, PostgresUpstream, RotationEngine } from '@keyfence/rotation';
import { AwsRotationVault } from '@keyfence/stores';

const { endpoint, runbook: text, killAfter } = JSON.parse(process.argv[2]);
const client = new SecretsManagerClient({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
});
const [runbook] = checkRunbooks(text, 'runbooks.yaml').runbooks;
const vault = new AwsRotationVault(client, runbook.store.secretId);
const upstream = new PostgresUpstream({
  config: runbook.upstream,
  readSecret: (id) => new AwsRotationVault(client, id).readCurrent(),
});

function killingAfter(target, method) {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property);
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(object);
      return async (...args) => {
        const result = await value.apply(object, args);
        process.kill(process.pid, 'SIGKILL');
        return result;
      };
    },
  });
}

const engine = new RotationEngine(runbook, {
  vault: killAfter.on === 'vault' ? killingAfter(vault, killAfter.method) : vault,
  upstream: killAfter.on === 'upstream' ? killingAfter(upstream, killAfter.method) : upstream,
  audit: new MemoryAudit(),
  runId: 'child',
  owner: `child pid ${process.pid}`,
});
const result = await engine.rotate();
process.stdout.write(`${JSON.stringify({ outcome: result.outcome, error: result.error })}\n`);
