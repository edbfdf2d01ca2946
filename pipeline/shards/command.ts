/** CLI: refinery tokenize. (Not registered yet: this module's commands land with its issue.) */
import type { Command } from 'commander';

export function registerTokenizeCommand(_program: Command): void {}
