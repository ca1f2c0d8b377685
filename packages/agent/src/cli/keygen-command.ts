import { randomBytes } from 'node:crypto';
import { Command } from 'commander';

/** AES-256, as `serf keygen` makes: the strongest size memberlist's keyring takes. */
const KEY_BYTES = 32;

/** `hearsay keygen`: Serf's `serf keygen`, a new encryption key in base64 for `--encrypt` or the keyring file. */
export function keygenCommand(): Command {
  return new Command('keygen')
    .description('print a new encryption key (32 random bytes, base64) for --encrypt or `hearsay keys --install`, as `serf keygen` does')
    .showHelpAfterError('(run with --help for usage)')
    .action(() => {
      process.stdout.write(`${randomBytes(KEY_BYTES).toString('base64')}\n`);
    });
}
