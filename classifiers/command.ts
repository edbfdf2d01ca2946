/** CLI: refinery classify label|train|score. (Not registered yet: this module's commands land with its issue.) */
import type { Command } from 'commander';

export function registerClassifyCommand(_program: Command): void {}
