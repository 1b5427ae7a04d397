#!/usr/bin/env node
// The `yinling` command. Runs the TypeScript sources directly through tsx (no build step for jobs).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly with the command's code once stdout has drained (long-running commands return
// only after their own orderly shutdown).
process.stdout.write('', () => process.exit(code));
