/**
 * Severity as Trivy and Grype pick it: the vendor's own rating (Debian urgency, GHSA severity) first, else the
 * CVSS base score computed from the advisory's vector (ae-cvss-calculator) banded per CVSS v3, else UNDEFINED.
 * Values are ECR's: INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL, UNDEFINED.
 */
import cvssCalculator from 'ae-cvss-calculator';

// The package is CommonJS without static named exports.
const { fromVector } = cvssCalculator;

export type Severity = 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFORMATIONAL' | 'UNDEFINED';

/** Most severe first. */
export const SEVERITY_ORDER: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL', 'UNDEFINED'];

export function severityRank(s: Severity): number {
  return SEVERITY_ORDER.length - SEVERITY_ORDER.indexOf(s);
}

/** A computed CVSS score. */
export interface CvssScore {
  /** `2.0`, `3.0`, `3.1`, `4.0`. */
  version: string;
  vector: string;
  score: number;
}

/** Debian urgency → severity (Trivy's table); undefined for "not yet assigned" and the like. */
export function debianUrgency(urgency: string): Severity | undefined {
  const u = urgency.toLowerCase().replace(/[^a-z ]/g, '').trim();
  if (u === 'unimportant' || u === 'low') return 'LOW';
  if (u === 'medium') return 'MEDIUM';
  if (u === 'high') return 'HIGH';
  return undefined;
}

/** GHSA and similar ratings (LOW/MODERATE/MEDIUM/HIGH/CRITICAL). */
export function vendorRating(rating: string): Severity | undefined {
  switch (rating.toUpperCase()) {
    case 'LOW': return 'LOW';
    case 'MODERATE':
    case 'MEDIUM': return 'MEDIUM';
    case 'HIGH':
    case 'IMPORTANT': return 'HIGH';
    case 'CRITICAL': return 'CRITICAL';
    default: return undefined;
  }
}

/** Base scores of the vectors an advisory carries (unparsable vectors are skipped). */
export function cvssScores(severity: readonly { type: string; score: string }[]): CvssScore[] {
  const out: CvssScore[] = [];
  for (const s of severity) {
    if (!s.type.startsWith('CVSS')) continue;
    try {
      const v = fromVector(s.score);
      if (!v) continue;
      const base = v.calculateScores().base;
      if (typeof base !== 'number' || Number.isNaN(base)) continue;
      const version = s.type === 'CVSS_V2' ? '2.0' : (/^CVSS:(\d\.\d)/.exec(s.score)?.[1] ?? (s.type === 'CVSS_V4' ? '4.0' : '3.1'));
      out.push({ version, vector: s.score, score: base });
    } catch {
      // An advisory with a malformed vector still matches; it just has no score.
    }
  }
  return out;
}

/** CVSS base score → band (v3 bands; 0 is informational). */
export function cvssBand(score: number): Severity {
  if (score >= 9) return 'CRITICAL';
  if (score >= 7) return 'HIGH';
  if (score >= 4) return 'MEDIUM';
  if (score > 0) return 'LOW';
  return 'INFORMATIONAL';
}

/** The preferred score for banding: CVSS 3.x, then 4.0, then 2.0. */
export function preferredScore(scores: readonly CvssScore[]): CvssScore | undefined {
  return scores.find((s) => s.version.startsWith('3')) ?? scores.find((s) => s.version === '4.0') ?? scores.find((s) => s.version === '2.0');
}
