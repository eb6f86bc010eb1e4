import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics for the HTTP layer. One instance per server. */
export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'route' | 'method' | 'status'>;
  duration: Histogram<'route' | 'method'>;
  bytesIn: Counter<'route'>;
  bytesOut: Counter<'route'>;
  uploadsInProgress: Gauge;
  inflight: Gauge;
}

export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cargohold_' });
  return {
    registry,
    requests: new Counter({ name: 'cargohold_http_requests_total', help: 'HTTP requests by route, method and status', labelNames: ['route', 'method', 'status'], registers: [registry] }),
    duration: new Histogram({
      name: 'cargohold_http_request_duration_seconds', help: 'HTTP request latency by route and method', labelNames: ['route', 'method'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry],
    }),
    bytesIn: new Counter({ name: 'cargohold_http_request_bytes_total', help: 'Request body bytes received by route', labelNames: ['route'], registers: [registry] }),
    bytesOut: new Counter({ name: 'cargohold_http_response_bytes_total', help: 'Response bytes sent by route', labelNames: ['route'], registers: [registry] }),
    uploadsInProgress: new Gauge({ name: 'cargohold_uploads_in_progress', help: 'Blob upload requests currently receiving data', registers: [registry] }),
    inflight: new Gauge({ name: 'cargohold_http_requests_in_flight', help: 'HTTP requests being served', registers: [registry] }),
  };
}
