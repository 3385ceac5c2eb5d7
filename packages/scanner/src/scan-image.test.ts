import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/support/cli.js';
import { writeOciLayout } from '../../../test/support/oci.js';
import { fake } from '../../../test/support/secrets.js';
import { defaultConfig } from './config.js';
import { scanImages } from './scan-image.js';
import { CONFIG_PATHS } from './sources/image.js';

describe('scanImages: the image config', () => {
  it('reports secrets in Entrypoint, Cmd and history comments, at the entry they are in', async () => {
    const inEntrypoint = fake.githubPat();
    const inCmd = fake.slackBot();
    const inComment = fake.stripeLive();
    const dir = join(tempDir('keyfence-image-config-'), 'layout');
    await writeOciLayout(dir, 'v1', [
      {
        layers: [{ files: { 'README.md': 'clean\n' } }],
        entrypoint: ['/bin/sh', '-c', `exec app --token ${inEntrypoint}`],
        cmd: ['--notify', inCmd],
        history: [
          { created_by: 'ADD rootfs.tar /' },
          { created_by: 'RUN make', comment: `built with STRIPE_KEY=${inComment}` },
        ],
      },
    ]);
    const result = await scanImages({
      config: defaultConfig(),
      imageArchives: [{ file: dir, name: 'app:v1' }],
    });
    const where = result.findings.map((f) => [f.location.path, f.location.line, f.ruleId]);
    expect(where).toEqual(
      expect.arrayContaining([
        [CONFIG_PATHS.entrypoint, 1, 'github-pat'],
        [CONFIG_PATHS.cmd, 1, expect.stringMatching(/^slack/)],
        [CONFIG_PATHS.historyComment, 2, expect.stringMatching(/^stripe/)],
      ]),
    );
    expect(result.findings).toHaveLength(3);
    expect(JSON.stringify(result)).not.toContain(inEntrypoint);
  });
});
