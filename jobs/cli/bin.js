#!/usr/bin/env node
// The `yinling` command. Runs the TypeScript sources directly through tsx (no build step for jobs).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
