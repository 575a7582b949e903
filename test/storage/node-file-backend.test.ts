import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockRangeError, BlockReadOnlyError } from '../../src/storage/block-backend.ts';
import { NodeFileBackend } from '../../src/storage/node-file-backend.ts';

describe('NodeFileBackend', () => {
  let dir = '';
  let path = '';
  const bytes = new Uint8Array(3000).map((_, i) => (i * 13) & 0xff);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webhvm-nfb-'));
    path = join(dir, 'disk.img');
    await writeFile(path, bytes);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads ranges of the file by path', async () => {
    const b = await NodeFileBackend.open(path);
    expect(b.size).toBe(3000);
    expect([...(await b.read(2990, 10))]).toEqual([...bytes.slice(2990)]);
    await expect(b.read(2995, 6)).rejects.toBeInstanceOf(BlockRangeError);
    await b.close();
  });

  it('never writes the file', async () => {
    const b = await NodeFileBackend.open(path);
    expect(b.readOnly).toBe(true);
    await expect(b.write(0, new Uint8Array([1, 2]))).rejects.toBeInstanceOf(BlockReadOnlyError);
    await b.close();
    expect(new Uint8Array(await readFile(path))).toEqual(bytes);
  });

  it('refuses a missing file and a directory', async () => {
    await expect(NodeFileBackend.open(join(dir, 'missing.img'))).rejects.toThrow(/ENOENT/);
    await expect(NodeFileBackend.open(dir)).rejects.toThrow();
  });
});
