import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** moto's standalone server (an AWS API emulator: KMS here), when installed. */
export function motoServerPath(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter);
  for (const d of dirs) {
    const p = join(d, 'moto_server');
    if (d && existsSync(p)) return p;
  }
  return undefined;
}

export interface RunningMoto {
  endpoint: string;
  /** Credentials moto accepts (any), for clients of the emulator. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts `moto_server` on 127.0.0.1 and waits (bounded) until it answers. */
export async function startMoto(bin: string): Promise<RunningMoto> {
  const port = await freePort();
  const child: ChildProcess = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
    if (i === 149) throw new Error('moto_server did not start within 15 s');
  }
  return {
    endpoint,
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
