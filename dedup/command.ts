/** CLI: refinery dedup. (Not registered yet: this module's commands land with its issue.) */
import type { Command } from 'commander';

export function registerDedupCommand(_program: Command): void {}
