const LABELS: Record<string, string> = {
  n1: 'N+1',
  l1: 'L1 only',
  'caregraph-cold': 'caregraph cold',
  'caregraph-warm': 'caregraph warm',
  'caregraph-workers-warm': 'warm, 2 workers',
  'caregraph-plaintext': 'warm, plaintext L2',
  'caregraph-no-audit': 'warm, audit off',
  'peer-cold': 'peer cold',
  'peer-warm': 'peer warm',
  ceiling: 'ceiling',
  'warm-chart-l1': 'L1 only',
  'warm-chart-caregraph': 'caregraph',
  'warm-chart-ceiling': 'ceiling',
  'warm-chart-caregraph-untracked': 'caregraph, CACHE_WARM=off',
};

/** The name the report and the chart give a run. */
export function runLabel(id: string): string {
  return LABELS[id] ?? id;
}
