/** CLI: refinery submit|worker|status. (Not registered yet: this module's commands land with its issue.) */
import type { Command } from 'commander';

export function registerQueueCommands(_program: Command): void {}
