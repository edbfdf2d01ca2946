/** report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched). */
import { basename, resolve } from 'node:path';
import type { Chart } from './charts.ts';
import type { Section, Table } from './section.ts';

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
nav a{margin-right:.8rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:13px}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f4f4f4}caption{text-align:left;font-weight:600;padding:.3rem 0}td{max-width:36rem;overflow-wrap:anywhere}figure{margin:1rem 0}figure svg{max-width:100%;height:auto}
p.note{color:#555}
`;

function tableHtml(t: Table): string {
  const caption = t.caption ? `<caption>${escapeHtml(t.caption)}</caption>` : '';
  const head = `<tr>${t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => `<td${t.numeric[i] ? ' class="n"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table>${caption}\n<thead>${head}</thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

export function reportHtml(runDir: string, sections: Section[], charts: Chart[]): string {
  const name = basename(resolve(runDir)) || runDir;
  const nav = sections.map((s) => `<a href="#${s.key}">${escapeHtml(s.title)}</a>`).join('');
  const body = sections
    .map((s) => {
      const figures = charts
        .filter((c) => c.section === s.key)
        .map((c) => `<figure class="chart" aria-label="${escapeHtml(c.title)}">${c.svg}</figure>`)
        .join('\n');
      return [
        `<section id="${s.key}">`,
        `<h2>${escapeHtml(s.title)}</h2>`,
        ...s.notes.map((n) => `<p class="note">${escapeHtml(n)}</p>`),
        figures,
        ...s.tables.map(tableHtml),
        '</section>',
      ].join('\n');
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Run report: ${escapeHtml(name)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Run report: ${escapeHtml(name)}</h1>
<p class="note">Run folder: ${escapeHtml(runDir)}</p>
<nav>${nav}</nav>
${body}
</body>
</html>
`;
}
