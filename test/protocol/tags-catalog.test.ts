/**
 * Protocol: tag listing and the catalog, with `n`/`last` pagination and RFC 5988 `Link` headers.
 *
 * Order is lexical by bytes ("ASCIIbetical", Go's sort.Strings). A page that leaves entries behind has
 * `Link: </v2/...?n=N&last=X>; rel="next"` (query order free); the last page has none; `n=0` is an empty
 * list without Link. A page may hold fewer than `n` entries only when a Link follows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectError, expectStatus, makeImage, mapLimit, parseNextLink, uniqueRepo, type Image, type OciClient, type OciResponse } from '../helpers/oci-client.ts';
import { distTodo, startTarget, type Target } from './target.ts';

let t: Target;
let c: OciClient;

const TAGS = ['latest', 'v1.0', 'v1.10', 'v1.2', 'V2', 'a', 'a-b', 'a_b', 'a.b', '0', 'Z', '_under', 'a0'];
const SORTED = [...TAGS].sort();
const repo = uniqueRepo('tags');
let img: Image;

before(async () => {
  t = await startTarget();
  c = t.client;
  img = makeImage();
  await c.pushImage(repo, img);
  // Push in a shuffled order so insertion order is not lexical order.
  for (const tag of [...TAGS].reverse()) expectStatus(await c.putManifest(repo, tag, img.bytes, img.mediaType), 201);
});
after(async () => {
  await t?.stop();
});

interface Page {
  entries: string[];
  next?: string;
  res: OciResponse;
}

async function tagsPage(pathOrUrl: string): Promise<Page> {
  const res = await c.get(pathOrUrl);
  expectStatus(res, 200);
  assert.match(res.header('content-type') ?? '', /^application\/json\b/);
  const body = res.json();
  assert.ok(Array.isArray(body.tags), `${res.what}: tags must be an array, got ${JSON.stringify(body.tags)}`);
  return { entries: body.tags, next: parseNextLink(res.header('link')), res };
}

async function catalogPage(pathOrUrl: string): Promise<Page> {
  const res = await c.get(pathOrUrl);
  expectStatus(res, 200);
  assert.match(res.header('content-type') ?? '', /^application\/json\b/);
  const body = res.json();
  assert.ok(Array.isArray(body.repositories), `${res.what}: repositories must be an array, got ${JSON.stringify(body.repositories)}`);
  return { entries: body.repositories, next: parseNextLink(res.header('link')), res };
}

/** Checks a next Link points at `path` with n=`n` and last=<last entry of the page>. */
function expectLink(page: Page, path: string, n: number) {
  assert.ok(page.next, `${page.res.what}: expected a Link header`);
  const u = c.url(page.next);
  assert.equal(decodeURIComponent(u.pathname), path, `Link path in ${page.next}`);
  assert.equal(u.searchParams.get('n'), String(n), `Link n in ${page.next}`);
  assert.equal(u.searchParams.get('last'), page.entries[page.entries.length - 1], `Link last in ${page.next}`);
}

/** Follows Link headers from `first`; returns all entries and the number of pages. */
async function walk(first: string, fetchPage: (p: string) => Promise<Page>, path: string, n: number): Promise<{ all: string[]; pages: number }> {
  const all: string[] = [];
  let url: string | undefined = first;
  let pages = 0;
  while (url) {
    const page = await fetchPage(url);
    pages++;
    assert.ok(page.entries.length <= n, `${page.res.what}: ${page.entries.length} entries > n=${n}`);
    if (page.next) {
      assert.ok(page.entries.length > 0, `${page.res.what}: empty page with a Link`);
      expectLink(page, path, n);
    }
    all.push(...page.entries);
    url = page.next;
    assert.ok(pages < 100_000, 'runaway pagination');
  }
  return { all, pages };
}

describe('tags list', () => {
  it('lists all tags in lexical order with the repository name and no Link', distTodo('tags come back unsorted'), async () => {
    const page = await tagsPage(`/v2/${repo}/tags/list`);
    assert.equal(page.res.json().name, repo);
    assert.deepEqual(page.entries, SORTED);
    assert.equal(page.res.header('link'), null);
  });

  it('n=3 pages through every tag following Link rel="next"; the last page has no Link', distTodo('no tag pagination'), async () => {
    const { all, pages } = await walk(`/v2/${repo}/tags/list?n=3`, tagsPage, `/v2/${repo}/tags/list`, 3);
    assert.deepEqual(all, SORTED);
    assert.ok(pages >= Math.ceil(SORTED.length / 3));
  });

  it('the first page of n=3 holds exactly the first 3 tags and a Link with last=<third tag>', distTodo('no tag pagination'), async () => {
    const page = await tagsPage(`/v2/${repo}/tags/list?n=3`);
    assert.deepEqual(page.entries, SORTED.slice(0, 3));
    expectLink(page, `/v2/${repo}/tags/list`, 3);
  });

  it('last=X without n lists the tags after X', distTodo('no tag pagination'), async () => {
    const page = await tagsPage(`/v2/${repo}/tags/list?last=${encodeURIComponent('a-b')}`);
    assert.deepEqual(page.entries, SORTED.filter((x) => x > 'a-b'));
  });

  it('n and last together list the n tags after last', distTodo('no tag pagination'), async () => {
    const page = await tagsPage(`/v2/${repo}/tags/list?n=2&last=${encodeURIComponent('V2')}`);
    const after = SORTED.filter((x) => x > 'V2');
    assert.deepEqual(page.entries, after.slice(0, 2));
    expectLink(page, `/v2/${repo}/tags/list`, 2);
  });

  it('last past the final tag answers an empty list without Link', distTodo('no tag pagination'), async () => {
    const page = await tagsPage(`/v2/${repo}/tags/list?n=5&last=zzz`);
    assert.deepEqual(page.entries, []);
    assert.equal(page.next, undefined);
  });

  it('n=0 answers an empty list without Link', distTodo('no tag pagination'), async () => {
    const page = await tagsPage(`/v2/${repo}/tags/list?n=0`);
    assert.deepEqual(page.entries, []);
    assert.equal(page.res.header('link'), null);
  });

  it('n equal to the number of tags answers all of them without Link', distTodo('no tag pagination'), async () => {
    const page = await tagsPage(`/v2/${repo}/tags/list?n=${SORTED.length}`);
    assert.deepEqual(page.entries, SORTED);
    assert.equal(page.res.header('link'), null);
  });

  it('n larger than the number of tags answers all of them without Link', distTodo('tags come back unsorted'), async () => {
    const page = await tagsPage(`/v2/${repo}/tags/list?n=1000`);
    assert.deepEqual(page.entries, SORTED);
    assert.equal(page.res.header('link'), null);
  });

  // (An empty `n=` may be read as absent, as Distribution does.)
  for (const n of ['-1', 'abc', '1.5', '1e3']) {
    it(`invalid n=${JSON.stringify(n)} answers 400 with an error body`, distTodo('no tag pagination'), async () => {
      expectError(await c.get(`/v2/${repo}/tags/list?n=${n}`), 400, ['PAGINATION_NUMBER_INVALID', 'SIZE_INVALID', 'UNSUPPORTED']);
    });
  }

  it('an unknown repository answers 404 NAME_UNKNOWN', async () => {
    expectError(await c.get(`/v2/${uniqueRepo('nosuch')}/tags/list`), 404, ['NAME_UNKNOWN']);
  });

  it('10,000 tags walk in pages of 100 in lexical order', distTodo('no tag pagination'), async () => {
    const big = uniqueRepo('tags10k');
    const image = makeImage();
    await c.pushImage(big, image);
    const tags = Array.from({ length: 10_000 }, (_, i) => `t${String((i * 7919) % 10_000).padStart(5, '0')}`);
    assert.equal(new Set(tags).size, 10_000);
    await mapLimit(tags, 16, async (tag) => {
      const res = await c.putManifest(big, tag, image.bytes, image.mediaType);
      expectStatus(res, 201);
    });
    const { all, pages } = await walk(`/v2/${big}/tags/list?n=100`, tagsPage, `/v2/${big}/tags/list`, 100);
    assert.equal(all.length, 10_000);
    assert.deepEqual(all, [...tags].sort());
    assert.ok(pages >= 100, `${pages} pages`);
  });
});

describe('catalog', () => {
  const prefix = uniqueRepo('catalog');
  const names = [`${prefix}/alpha`, `${prefix}/beta`, `${prefix}/delta/one`, `${prefix}/gamma`, `${prefix}/zeta`];
  before(async () => {
    for (const name of [...names].reverse()) await c.pushImage(name, makeImage(), 'v1');
  });

  it('lists repositories in lexical order without duplicates', async () => {
    const page = await catalogPage('/v2/_catalog?n=1000');
    for (const name of names) assert.ok(page.entries.includes(name), `${name} missing from catalog`);
    assert.deepEqual(page.entries, [...page.entries].sort());
    assert.equal(new Set(page.entries).size, page.entries.length);
    assert.equal(page.res.header('link'), null);
  });

  it('n=2 pages through the whole catalog following Link rel="next"', async () => {
    const full = (await catalogPage('/v2/_catalog?n=1000')).entries;
    const { all } = await walk('/v2/_catalog?n=2', catalogPage, '/v2/_catalog', 2);
    assert.deepEqual(all, full);
    for (const name of names) assert.ok(all.includes(name));
  });

  it('last=X lists the repositories after X', async () => {
    const page = await catalogPage(`/v2/_catalog?n=2&last=${encodeURIComponent(names[1])}`);
    assert.deepEqual(page.entries, [names[2], names[3]]);
    expectLink(page, '/v2/_catalog', 2);
  });

  it('n=0 answers an empty list without Link', async () => {
    const page = await catalogPage('/v2/_catalog?n=0');
    assert.deepEqual(page.entries, []);
    assert.equal(page.res.header('link'), null);
  });

  for (const n of ['-1', 'abc']) {
    it(`invalid n=${n} answers 400 with an error body`, distTodo('ignores an invalid n'), async () => {
      expectError(await c.get(`/v2/_catalog?n=${n}`), 400, ['PAGINATION_NUMBER_INVALID', 'SIZE_INVALID', 'UNSUPPORTED']);
    });
  }
});
