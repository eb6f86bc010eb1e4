import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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

  const duration = new Histogram({
    name: 'cargohold_http_request_duration_seconds', help: 'HTTP request latency by route and method', labelNames: ['route', 'method'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry],
  });
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
        // Routes, methods (llhttp's fixed set) and statuses are bounded, so the map is too.
        const child = duration.labels({ route, method });
        s = { route, method, status, count: 0, bytesIn: 0, bytesOut: 0, observe: (v) => child.observe(v) };
        series.set(key, s);
      }
      s.count++;
      s.bytesIn += bytesIn;
      s.bytesOut += bytesOut;
      s.observe(seconds);
    },
  };
}
