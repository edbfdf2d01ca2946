/** report.md: the run report for terminals and notebooks. */
import type { Section, Table } from './section.ts';

/** Pipes and newlines would break the table; `<` would let crawled text be read as HTML by a Markdown viewer. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/</g, '&lt;');
}

function tableMarkdown(t: Table): string {
  return [
    ...(t.caption ? [`**${cell(t.caption)}**`, ''] : []),
    `| ${t.headers.map(cell).join(' | ')} |`,
    `|${t.numeric.map((x) => (x ? '---:' : '---')).join('|')}|`,
    ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}

export function reportMarkdown(runDir: string, sections: Section[]): string {
  const parts = [`# Run report: ${runDir}`];
  for (const s of sections) {
    parts.push(`## ${s.title}`);
    for (const note of s.notes) parts.push(note);
    for (const t of s.tables) parts.push(tableMarkdown(t));
  }
  return parts.join('\n\n') + '\n';
}
