import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/** A PromQL expression of a file of `ops/`, and where it is. */
export interface OpsExpression {
  readonly where: string;
  readonly expr: string;
}

export const DASHBOARD_PATH = new URL('../../ops/grafana/caregraph.json', import.meta.url);
export const ALERTS_PATH = new URL('../../ops/prometheus/alerts.yml', import.meta.url);

export interface GrafanaPanel {
  readonly id?: number;
  readonly type?: string;
  readonly title?: string;
  readonly gridPos?: { h: number; w: number; x: number; y: number };
  readonly datasource?: { type?: string; uid?: string };
  readonly targets?: ReadonlyArray<{ expr?: string; refId?: string; datasource?: unknown }>;
  readonly panels?: ReadonlyArray<GrafanaPanel>;
}

export interface GrafanaDashboard {
  readonly title?: string;
  readonly uid?: string;
  readonly schemaVersion?: number;
  readonly templating?: {
    readonly list?: ReadonlyArray<{
      type?: string;
      name?: string;
      query?: string | { query?: string };
    }>;
  };
  readonly panels?: ReadonlyArray<GrafanaPanel>;
}

export interface AlertRule {
  readonly alert?: unknown;
  readonly record?: unknown;
  readonly expr?: unknown;
  readonly for?: unknown;
  readonly labels?: Record<string, unknown>;
  readonly annotations?: Record<string, unknown>;
}

export interface AlertFile {
  readonly groups?: ReadonlyArray<{ name?: unknown; rules?: ReadonlyArray<AlertRule> }>;
}

export function readDashboard(text = readFileSync(DASHBOARD_PATH, 'utf8')): GrafanaDashboard {
  return JSON.parse(text) as GrafanaDashboard;
}

export function readAlerts(text = readFileSync(ALERTS_PATH, 'utf8')): AlertFile {
  return parse(text) as AlertFile;
}

/** Every panel, those inside collapsed rows too. */
export function allPanels(dashboard: GrafanaDashboard): GrafanaPanel[] {
  const walk = (panels: ReadonlyArray<GrafanaPanel>): GrafanaPanel[] =>
    panels.flatMap((panel) => [panel, ...walk(panel.panels ?? [])]);
  return walk(dashboard.panels ?? []);
}

/**
 * The PromQL of the dashboard: each panel target's `expr`, and each query variable's query.
 * Grafana's `label_values(selector, label)` reads as `group by (label) (selector)`, which uses
 * the same metric and label.
 */
export function dashboardExpressions(dashboard: GrafanaDashboard): OpsExpression[] {
  const expressions: OpsExpression[] = [];
  for (const panel of allPanels(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (target.expr !== undefined) {
        expressions.push({
          where: `panel "${panel.title ?? ''}" ${target.refId ?? ''}`,
          expr: target.expr,
        });
      }
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const labelValues = /^label_values\((.+),\s*(\w+)\)$/s.exec(query ?? '');
    if (labelValues === null) {
      throw new Error(`variable ${variable.name ?? ''}: not label_values(selector, label)`);
    }
    expressions.push({
      where: `variable "${variable.name ?? ''}"`,
      expr: `group by (${labelValues[2] ?? ''}) (${labelValues[1] ?? ''})`,
    });
  }
  return expressions;
}

/** Every rule's `expr`. */
export function alertExpressions(alerts: AlertFile): OpsExpression[] {
  return (alerts.groups ?? []).flatMap((group) =>
    (group.rules ?? []).map((rule) => ({
      where: `alert ${String(rule.alert ?? rule.record)}`,
      expr: String(rule.expr),
    })),
  );
}
