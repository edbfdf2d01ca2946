// Loaded with `node --import` into a measured child process (bench/pipeline.bench.ts): at exit,
// writes the process's CPU seconds (user + system, every thread), peak RSS and time since start to
// the JSON file named by BENCH_USAGE_FILE. Plain JavaScript, so the measured process runs the
// compiled `refinery` exactly as a user's would, without tsx.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_USAGE_FILE;
const t0 = performance.now();
if (file) {
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    writeFileSync(file, JSON.stringify({ inside: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
  });
}
