import { makeImage } from '../lib/data.ts';
import { percentile, median, round, runPool } from '../lib/stats.ts';
import type { Metric, Scenario, ScenarioContext } from '../lib/types.ts';
import { checkDeadline, deadlineSignal } from './common.ts';

const REPO = 'bench/tags';

interface Walk {
  tags: number;
  pages: number;
  pageMs: number[];
  totalMs: number;
  /** Largest page seen (to tell whether the server honoured n). */
  largest: number;
}

/** Follows Link rel="next" from `first` until the last page (bounded by `maxPages`), timing each page. */
async function walk(ctx: ScenarioContext, first: string, maxPages: number): Promise<Walk> {
  const pageMs: number[] = [];
  let url: URL | undefined = new URL(first);
  let tags = 0;
  let largest = 0;
  const t0 = performance.now();
  while (url && pageMs.length < maxPages) {
    checkDeadline(ctx, 'tag listing');
    const s = performance.now();
    const page = await ctx.client.listTags(url);
    pageMs.push(performance.now() - s);
    tags += page.tags.length;
    largest = Math.max(largest, page.tags.length);
    url = page.next;
  }
  if (url) throw new Error(`more than ${maxPages} pages`);
  return { tags, pages: pageMs.length, pageMs, totalMs: performance.now() - t0, largest };
}

/** 8. One repository with many tags: the full listing, and walking it in pages of 100. */
export const tagList: Scenario = {
  id: 8,
  title: 'tag listing',
  describe: (c) => `${c.tags} tags in one repository: GET tags/list?n=${c.tags} (following Link; median of ${c.fullListRepeats}) and walking ?n=${c.pageSize} pages via Link (${c.pageWalks} walks)`,
  async run(ctx) {
    const { config, client, server } = ctx;
    const image = makeImage(0, 1, 1024, 2048);
    const names = Array.from({ length: config.tags }, (_, i) => `tag-${String(i).padStart(5, '0')}`);
    const signal = deadlineSignal(ctx);
    ctx.log(`setup: ${config.tags} tags`);
    const setup0 = performance.now();
    await client.pushImage(REPO, names[0], image, signal);
    await runPool(names.length - 1, config.tagSetupConcurrency, ctx.deadline, async (i) => {
      await client.putManifest(REPO, names[i + 1], image.manifest, signal);
    });
    ctx.details.setupSeconds = round((performance.now() - setup0) / 1000, 1);

    const base = `${server.url}/v2/${REPO}/tags/list`;
    const maxPages = config.tags + 10;
    const full: number[] = [];
    let fullWalk: Walk | undefined;
    for (let i = 0; i < config.fullListRepeats; i++) {
      fullWalk = await walk(ctx, `${base}?n=${config.tags}`, maxPages);
      full.push(fullWalk.totalMs);
    }
    const expected = config.tags;
    if (fullWalk && fullWalk.tags !== expected) throw new Error(`full listing returned ${fullWalk.tags} tags, expected ${expected}`);
    ctx.details.fullListing = { pages: fullWalk?.pages, medianMs: round(median(full), 2) };

    const pageMs: number[] = [];
    let paged = true;
    for (let i = 0; i < config.pageWalks; i++) {
      const w = await walk(ctx, `${base}?n=${config.pageSize}`, maxPages);
      if (w.tags !== expected) throw new Error(`paged listing returned ${w.tags} tags, expected ${expected}`);
      if (w.largest > config.pageSize) {
        paged = false;
        break;
      }
      pageMs.push(...w.pageMs);
    }
    ctx.details.pages = { samples: pageMs.length, paged };
    const pageMetric = (key: string, label: string, p: number): Metric =>
      paged
        ? { key, label, unit: 'ms', value: round(percentile(pageMs, p), 2), target: { op: '<', value: 5 } }
        : { key, label, unit: 'ms', value: null, target: { op: '<', value: 5 }, note: `ignores n=${config.pageSize}: every request returns all ${expected} tags (no pagination)` };
    return [
      { key: 'full', label: `full listing (${expected} tags)`, unit: 'ms', value: round(median(full), 1) },
      pageMetric('p50', `page of ${config.pageSize}, p50`, 50),
      pageMetric('p99', `page of ${config.pageSize}, p99`, 99),
    ];
  },
};
