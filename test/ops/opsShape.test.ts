import { describe, expect, it } from 'vitest';
import { promqlReferences } from '../support/promqlReferences.js';
import {
  alertExpressions,
  allPanels,
  dashboardExpressions,
  readAlerts,
  readDashboard,
} from './opsFiles.js';

/** A Prometheus duration: `0m`, `5m`, `1h30m`. */
const DURATION = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const SEVERITIES = new Set(['critical', 'warning', 'info']);

/** Every `datasource` object anywhere in the dashboard. */
function datasources(value: unknown, found: Array<Record<string, unknown>> = []) {
  if (Array.isArray(value)) for (const item of value) datasources(item, found);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'datasource' && typeof child === 'object' && child !== null) {
        found.push(child as Record<string, unknown>);
      }
      datasources(child, found);
    }
  }
  return found;
}

describe('ops/grafana/caregraph.json', () => {
  const dashboard = readDashboard();
  const panels = allPanels(dashboard);

  it('is a Grafana dashboard of schema 39 or later, with a uid and a title', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(dashboard.uid).toBe('caregraph');
    expect(dashboard.title).toBe('caregraph');
  });

  it('queries Prometheus through the ${datasource} variable, never a fixed data source', () => {
    const variable = dashboard.templating?.list?.find((v) => v.name === 'datasource');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const prometheus = datasources(dashboard).filter((d) => d.type !== 'grafana');
    expect(prometheus.length).toBeGreaterThan(panels.length);
    for (const datasource of prometheus) {
      expect(datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
    }
  });

  it('gives every panel a unique id and a place, and every graph a PromQL query', () => {
    const ids = panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels) {
      expect(panel.gridPos, panel.title).toBeDefined();
      expect((panel.gridPos?.x ?? 0) + (panel.gridPos?.w ?? 0), panel.title).toBeLessThanOrEqual(
        24,
      );
      if (panel.type === 'row') continue;
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect(target.expr, panel.title).toEqual(expect.any(String));
        expect(target.refId, panel.title).toMatch(/^[A-Z]$/);
      }
    }
  });

  it('charts traffic, latency, both cache layers, Redis, the breaker, audit, warming and SQL', () => {
    const used = new Set(
      dashboardExpressions(dashboard).flatMap(({ expr }) =>
        promqlReferences(expr).selectors.map((s) => s.name),
      ),
    );
    for (const name of [
      'caregraph_http_request_duration_seconds_count',
      'caregraph_http_request_duration_seconds_bucket',
      'caregraph_cache_requests_total',
      'caregraph_redis_errors_total',
      'caregraph_cache_breaker_state',
      'caregraph_audit_commit_duration_seconds_bucket',
      'caregraph_audit_commit_failures_total',
      'caregraph_cache_warm_runs_total',
      'caregraph_cache_warm_entries_total',
      'caregraph_db_queries_total',
    ]) {
      expect(used, name).toContain(name);
    }
    const expressions = dashboardExpressions(dashboard).map(({ expr }) => expr);
    for (const quantile of ['0.5', '0.95', '0.99']) {
      expect(expressions.some((e) => e.startsWith(`histogram_quantile(${quantile}, `))).toBe(true);
    }
    expect(expressions.some((e) => e.includes('layer="l1"') && e.includes('by (type)'))).toBe(true);
    expect(expressions.some((e) => e.includes('layer="l2"') && e.includes('by (type)'))).toBe(true);
  });
});

describe('ops/prometheus/alerts.yml', () => {
  const alerts = readAlerts();
  const rules = (alerts.groups ?? []).flatMap((group) => group.rules ?? []);

  it('is a rule file of named groups of alerting rules', () => {
    expect(alerts.groups?.length).toBeGreaterThan(0);
    for (const group of alerts.groups ?? []) {
      expect(group.name).toEqual(expect.any(String));
      expect(group.rules?.length).toBeGreaterThan(0);
    }
  });

  it('gives every rule an alert name, an expression, a for, a severity and its text', () => {
    for (const rule of rules) {
      const name = String(rule.alert);
      expect(rule.alert, name).toMatch(/^Caregraph[A-Z][A-Za-z0-9]+$/);
      expect(rule.expr, name).toEqual(expect.any(String));
      expect(rule.for, name).toMatch(DURATION);
      expect(SEVERITIES, name).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, name).toEqual(expect.stringMatching(/\S/));
      expect(rule.annotations?.description, name).toEqual(expect.stringMatching(/\S/));
      expect(rule.annotations?.runbook, name).toEqual(expect.stringMatching(/\S/));
    }
    const names = rules.map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
  });

  it('names in its text only labels that the expression keeps', () => {
    for (const rule of rules) {
      const kept = new Set(promqlReferences(String(rule.expr)).groupingLabels);
      const text = Object.values(rule.annotations ?? {}).join('\n');
      for (const [, label] of text.matchAll(/\$labels\.(\w+)/g)) {
        expect(kept, `${String(rule.alert)}: $labels.${label ?? ''}`).toContain(label);
      }
    }
  });

  it('alerts on an open breaker, audit failures, a collapsed hit ratio and p95 over budget', () => {
    const byName = new Map(rules.map((rule) => [rule.alert, String(rule.expr)]));
    expect(byName.get('CaregraphCacheBreakerOpen')).toContain('caregraph_cache_breaker_state');
    expect(byName.get('CaregraphAuditCommitFailing')).toContain(
      'caregraph_audit_commit_failures_total',
    );
    expect(byName.get('CaregraphL2HitRatioCollapsed')).toContain('layer="l2"');
    expect(byName.get('CaregraphGraphqlLatencyOverBudget')).toMatch(
      /histogram_quantile\(0\.95,[\s\S]*> 0\.25/,
    );
  });

  it('has expressions that read as PromQL', () => {
    for (const { where, expr } of alertExpressions(alerts)) {
      expect(() => promqlReferences(expr), where).not.toThrow();
    }
  });
});
