// `yinling <command>`: the operators' CLI. Exit codes: 0 ok, 1 failure, 2 bad usage.
// Errors reach the operator as one clear line (never a stack trace; set YINLING_DEBUG=1 for one).
import { loadConfig } from '../../core/config.ts';
import { UsageError } from '../../core/errors.ts';
import { COMMANDS } from './commands.ts';

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'Usage: yinling <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `yinling <command> --help` for a command's options. Configuration comes from the environment",
    '(DATABASE_URL, PORT, YINLING_DATA_DIR, YINLING_INBOX, YINLING_SCHEDULE_*); see README.md.'
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`yinling: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`Usage: yinling ${name} ${command.usage}\n\n${command.summary}\n${command.help ? '\n' + command.help + '\n' : ''}`);
    return 0;
  }
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    console.error(`yinling: configuration error: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  try {
    return await command.run(rest, config);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`yinling ${name}: ${e.message}\nUsage: yinling ${name} ${command.usage}`);
      return 2;
    }
    console.error(`yinling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    if (process.env.YINLING_DEBUG) console.error(e);
    return 1;
  }
}
