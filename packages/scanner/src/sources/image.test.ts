import { describe, expect, it } from 'vitest';
import { CONFIG_PATHS, configFragments, layerPath, Whiteouts } from './image.js';

describe('Whiteouts', () => {
  it('says which later layer deleted a file, a folder holding it, or made its folder opaque', () => {
    const w = new Whiteouts();
    expect(w.record(2, 'app/.wh..env')).toBe(true);
    expect(w.record(3, 'srv/.wh.old')).toBe(true);
    expect(w.record(4, 'etc/conf/.wh..wh..opq')).toBe(true);
    expect(w.record(4, 'etc/conf/new.txt')).toBe(false);
    expect(w.deletedIn(1, 'app/.env')).toBe(2);
    expect(w.deletedIn(2, 'app/.env')).toBeUndefined(); // a whiteout hides lower layers only
    expect(w.deletedIn(1, 'srv/old/deep/file')).toBe(3);
    expect(w.deletedIn(3, 'etc/conf/secret.txt')).toBe(4);
    expect(w.deletedIn(3, 'etc/conf')).toBeUndefined(); // opaque hides the contents, not the folder
    expect(w.deletedIn(1, 'app/.env.example')).toBeUndefined();
  });

  it('normalises layer paths', () => {
    expect(layerPath('./app/.env')).toBe('app/.env');
    expect(layerPath('/etc/passwd')).toBe('etc/passwd');
    expect(layerPath('usr/lib/')).toBe('usr/lib');
  });
});

describe('configFragments', () => {
  it('numbers Env, Labels and history lines by their entry, multi-line values included', () => {
    const fragments = configFragments(
      {
        config: { Env: ['A=1', 'B=2'], Labels: { x: 'y' } },
        history: [
          { created_by: 'one' },
          { empty_layer: true },
          { created_by: 'RUN <<EOF\nline a\nline b\nEOF' },
        ],
      },
      { image: 'img' },
    );
    expect(fragments.map((f) => f.path)).toEqual([
      CONFIG_PATHS.env,
      CONFIG_PATHS.labels,
      CONFIG_PATHS.history,
    ]);
    expect(fragments[1]!.text).toBe('x=y');
    expect(fragments[2]!.lineNumbers).toEqual([1, 2, 3, 3, 3, 3]);
    expect(fragments[2]!.location).toEqual({ image: 'img' });
    expect(configFragments({}, undefined)).toEqual([]);
  });

  it('adds Entrypoint and Cmd as one line each, and history comments numbered by their entry', () => {
    const fragments = configFragments(
      {
        config: { Entrypoint: ['/bin/sh', '-c', 'run --token T'], Cmd: 'serve --port 80' },
        history: [{ created_by: 'one' }, { created_by: 'two', comment: 'note' }],
      },
      undefined,
    );
    const byPath = Object.fromEntries(fragments.map((f) => [f.path, f]));
    expect(byPath[CONFIG_PATHS.entrypoint]!.text).toBe('/bin/sh -c run --token T');
    expect(byPath[CONFIG_PATHS.cmd]!.text).toBe('serve --port 80');
    expect(byPath[CONFIG_PATHS.historyComment]!.text).toBe('\nnote');
    expect(byPath[CONFIG_PATHS.historyComment]!.lineNumbers).toEqual([1, 2]);
    expect(configFragments({ config: { Cmd: null, Entrypoint: [] } }, undefined)).toEqual([]);
  });
});
