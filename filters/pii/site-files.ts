/**
 * Every file the `pii-sites` stage reads or writes, in one place (so that moving the phases to
 * another run storage touches this file only): one tally per input shard from map, the sites over
 * the threshold from reduce, and the stage's statistics in the run's `stats/`.
 */
import { mkdir } from 'node:fs/promises';
import { readRunText, type RunFiles } from '../../pipeline/run-folder/files.ts';
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../../pipeline/io/atomic.ts';

/** What map counts for one site (URL host) in one shard. */
export interface SiteTally {
  docs: number;
  chars: number;
  pii: number;
}

/** A site's corpus-wide figures as reduce decided them. */
export interface SiteDensity extends SiteTally {
  /** PII items per 1,000 characters of the site's documents */
  density: number;
}

export interface SiteFiles {
  writeShardTally(shard: number, tally: Record<string, SiteTally>): Promise<void>;
  readShardTally(shard: number): Promise<Record<string, SiteTally>>;
  /** Every site with at least one PII item (the others have density 0), and whether it is over the threshold. */
  writeSites(sites: Record<string, SiteDensity & { dropped: boolean }>): Promise<void>;
  readSites(): Promise<Record<string, SiteDensity & { dropped: boolean }>>;
  writeStats(stats: unknown): Promise<void>;
}

const shardName = (i: number) => `shard-${String(i).padStart(5, '0')}.json`;

export function siteFiles(workDir: string, outputDir: string, files: RunFiles): SiteFiles {
  const tallyFile = (shard: number) => join(workDir, 'map', shardName(shard));
  const sitesFile = join(workDir, 'sites.json');
  return {
    writeShardTally: (shard, tally) => writeFileAtomic(tallyFile(shard), stableJson(tally, 0)),
    readShardTally: async (shard) => JSON.parse(await readRunText(files, tallyFile(shard))) as Record<string, SiteTally>,
    writeSites: (sites) => writeFileAtomic(sitesFile, stableJson(sites, 0)),
    readSites: async () => JSON.parse(await readRunText(files, sitesFile)) as Record<string, SiteDensity & { dropped: boolean }>,
    async writeStats(stats) {
      await mkdir(join(outputDir, 'stats'), { recursive: true });
      await writeFileAtomic(join(outputDir, 'stats', 'pii-sites.json'), stableJson(stats));
    },
  };
}
