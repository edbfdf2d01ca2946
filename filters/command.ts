/** CLI: refinery filter. (Not registered yet: this module's commands land with its issue.) */
import type { Command } from 'commander';

export function registerFilterCommand(_program: Command): void {}
