import type { ServerName } from './servers.ts';
import type { Metric, Target } from './types.ts';

export interface ServerRun {
  status: 'ok' | 'error';
  metrics: Metric[];
  error?: string;
  seconds: number;
  serverCpuSeconds: number | null;
  loadAverage: string;
  /** Cores other processes kept busy just before the run started (the machine is shared). */
  backgroundCores: number | null;
  details: Record<string, unknown>;
}

export interface ScenarioResult {
  id: number;
  title: string;
  description: string;
  runs: Partial<Record<ServerName, ServerRun>>;
}

const nf = (digits: number): Intl.NumberFormat => new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function formatValue(value: number | null, unit: Metric['unit']): string {
  if (value === null || Number.isNaN(value)) return 'n/a';
  switch (unit) {
    case 'ms':
      return `${nf(value < 10 ? 2 : 1).format(value)} ms`;
    case 'MiB':
      return `${nf(1).format(value)} MiB`;
    case 'count':
      return nf(0).format(value);
    case 's':
      return `${nf(value < 10 ? 2 : 1).format(value)} s`;
    case 'µs':
      return `${nf(0).format(value)} µs`;
    case 'req/s':
      return `${nf(0).format(value)} req/s`;
    default:
      return `${nf(value < 100 ? 1 : 0).format(value)} ${unit}`;
  }
}

export function formatTarget(target: Target | undefined, unit: Metric['unit']): string {
  if (!target) return '';
  if (unit === 'count' && target.op === '<' && target.value === 1) return '0';
  return `${target.op === '>=' ? '≥' : '<'} ${formatValue(target.value, unit).replace(/\.0+ /, ' ')}`;
}

export function meets(target: Target, value: number | null): boolean {
  if (value === null || Number.isNaN(value)) return false;
  return target.op === '>=' ? value >= target.value : value < target.value;
}

function cell(run: ServerRun | undefined, metric: Metric | undefined): string {
  if (!run) return '—';
  if (run.status === 'error') return 'error';
  if (!metric) return '—';
  return formatValue(metric.value, metric.unit);
}

/** The side-by-side markdown table; PASS/FAIL is judged for cargohold only. */
export function renderTable(results: ScenarioResult[], servers: ServerName[]): { table: string; notes: string[] } {
  const lines = [
    '| # | Scenario | Metric | cargohold | distribution | Target (cargohold) | cargohold |',
    '|---|---|---|---:|---:|---|---|',
  ];
  const notes: string[] = [];
  for (const r of results) {
    const c = r.runs.cargohold;
    const d = r.runs.distribution;
    const keys: Metric[] = [];
    for (const m of [...(c?.metrics ?? []), ...(d?.metrics ?? [])]) if (!keys.some((k) => k.key === m.key)) keys.push(m);
    if (keys.length === 0) keys.push({ key: '-', label: '—', unit: 'count', value: null });
    keys.forEach((k, i) => {
      const cm = c?.metrics.find((m) => m.key === k.key);
      const dm = d?.metrics.find((m) => m.key === k.key);
      const target = (cm ?? k).target;
      let verdict = '';
      if (target && servers.includes('cargohold')) verdict = c?.status === 'ok' && cm ? (meets(target, cm.value) ? 'PASS' : '**FAIL**') : '**FAIL**';
      lines.push(`| ${i === 0 ? r.id : ''} | ${i === 0 ? r.title : ''} | ${k.label} | ${cell(c, cm)} | ${cell(d, dm)} | ${formatTarget(target, k.unit)} | ${verdict} |`);
      for (const [name, m] of [['cargohold', cm], ['distribution', dm]] as const) if (m?.note && !notes.includes(`${r.id}. ${name}: ${m.note}`)) notes.push(`${r.id}. ${name}: ${m.note}`);
    });
    for (const [name, run] of Object.entries(r.runs)) {
      if (run?.status === 'error') notes.push(`${r.id}. ${name} failed: ${firstLine(run.error ?? '')}`);
    }
  }
  return { table: lines.join('\n'), notes };
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
