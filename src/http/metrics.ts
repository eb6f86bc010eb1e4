import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** Prometheus metrics for the HTTP layer. One instance per server. */
export interface HttpMetrics {
  registry: Registry;
  /** Records one finished request (hot path: plain additions; label sets are applied at scrape time). */
  record(route: string, method: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void;
  /** Reports how many requests are being served (read at scrape time). */
  setInflightSource(source: () => number): void;
  uploadsInProgress: Gauge;
}

interface Series {
  route: string;
  method: string;
  status: number;
  count: number;
  bytesIn: number;
  bytesOut: number;
  observe(seconds: number): void;
}

export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cargohold_' });
  const series = new Map<string, Series>();
  let inflightSource = () => 0;

  // The latency histogram is kept in plain arrays (one per route+method) and rendered at scrape time, so a
  // request costs a few additions instead of a label hash per metric.
  const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
  const latency = new Map<string, { route: string; method: string; counts: number[]; sum: number; count: number }>();
  const DURATION = 'cargohold_http_request_duration_seconds';
  registry.registerMetric({
    name: DURATION,
    help: 'HTTP request latency by route and method',
    type: 'histogram',
    aggregator: 'sum',
    reset() { latency.clear(); },
    async get() {
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      for (const h of latency.values()) {
        let cumulative = 0;
        BUCKETS.forEach((le, i) => {
          cumulative += h.counts[i];
          values.push({ metricName: `${DURATION}_bucket`, labels: { le, route: h.route, method: h.method }, value: cumulative });
        });
        values.push({ metricName: `${DURATION}_bucket`, labels: { le: '+Inf', route: h.route, method: h.method }, value: h.count });
        values.push({ metricName: `${DURATION}_sum`, labels: { route: h.route, method: h.method }, value: h.sum });
        values.push({ metricName: `${DURATION}_count`, labels: { route: h.route, method: h.method }, value: h.count });
      }
      return { name: DURATION, help: 'HTTP request latency by route and method', type: 'histogram', aggregator: 'sum', values };
    },
  } as unknown as Metric);
  // Counters keep their totals in `series` and are rebuilt from them at each scrape: no label hashing per request.
  new Counter({
    name: 'cargohold_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry],
    collect() {
      this.reset();
      for (const s of series.values()) this.inc({ route: s.route, method: s.method, status: s.status }, s.count);
    },
  });
  const perRoute = (pick: (s: Series) => number) => function (this: Counter<'route'>) {
    this.reset();
    const totals = new Map<string, number>();
    for (const s of series.values()) totals.set(s.route, (totals.get(s.route) ?? 0) + pick(s));
    for (const [route, v] of totals) this.inc({ route }, v);
  };
  new Counter({ name: 'cargohold_http_request_bytes_total', help: 'Request bytes received by route', labelNames: ['route'], registers: [registry], collect: perRoute((s) => s.bytesIn) });
  new Counter({ name: 'cargohold_http_response_bytes_total', help: 'Response bytes sent by route', labelNames: ['route'], registers: [registry], collect: perRoute((s) => s.bytesOut) });
  new Gauge({ name: 'cargohold_http_requests_in_flight', help: 'HTTP requests being served', registers: [registry], collect() { this.set(inflightSource()); } });
  const uploadsInProgress = new Gauge({ name: 'cargohold_uploads_in_progress', help: 'Blob upload requests currently receiving data', registers: [registry] });

  return {
    registry,
    uploadsInProgress,
    setInflightSource(source) { inflightSource = source; },
    record(route, method, status, seconds, bytesIn, bytesOut) {
      const key = `${route} ${method} ${status}`;
      let s = series.get(key);
      if (!s) {
        // Routes, methods (llhttp's fixed set) and statuses are bounded, so the maps are too.
        const lkey = `${route} ${method}`;
        let h = latency.get(lkey);
        if (!h) {
          h = { route, method, counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
          latency.set(lkey, h);
        }
        const hist = h;
        s = {
          route, method, status, count: 0, bytesIn: 0, bytesOut: 0,
          observe: (v) => {
            let i = 0;
            while (i < BUCKETS.length && v > BUCKETS[i]) i++;
            if (i < BUCKETS.length) hist.counts[i]++;
            hist.sum += v;
            hist.count++;
          },
        };
        series.set(key, s);
      }
      s.count++;
      s.bytesIn += bytesIn;
      s.bytesOut += bytesOut;
      s.observe(seconds);
    },
  };
}
