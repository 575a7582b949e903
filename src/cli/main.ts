/**
 * `webhvm` command line: `webhvm run guest.cfg [options]` boots a domain configuration headless
 * with COM1 on stdin/stdout. `webhvm help` lists the commands.
 */
import { runCommand } from './run-command.ts';

const usage = `usage: webhvm <command> [arguments]

commands:
  run <config> [options]   boot a domain configuration headless; COM1 is stdin/stdout
      --until REGEX        stop with success when the serial output matches REGEX
      --timeout SECONDS    stop with failure after this many seconds (default: none)
      --screenshot FILE    write the screen as PNG when the run ends
      --debugcon FILE      write the BIOS debug console (port 0x402) to FILE
      --quiet              do not copy the guest's serial output to stdout
  help                     this text

The run ends with one line "webhvm: <name> ended: <event>" (matched, poweroff, reboot, crash,
timeout). Exit status: 0 matched (or poweroff without --until), 1 timeout or other ends,
2 bad configuration or image, 3 crash.`;

export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'run':
      return runCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage);
      return command === undefined ? 2 : 0;
    default:
      console.error(`webhvm: unknown command '${command}'\n\n${usage}`);
      return 2;
  }
}
