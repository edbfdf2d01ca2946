/** CLI: refinery mix census|plan|fit and refinery report. (Not registered yet: this module's commands land with its issue.) */
import type { Command } from 'commander';

export function registerMixCommands(_program: Command): void {}
