/**
 * The mix folder's tallies, handed to the core's task runner by name as stages are
 * (pipeline/engine/tallies.ts): the researcher report's counts of every settled document.
 */
import { tallyModule, type TallyModuleTable } from '../pipeline/engine/tallies.ts';

export const mixTallyModules: TallyModuleTable = { report: tallyModule(import.meta.url, './report/tally') };
