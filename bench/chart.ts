import * as echarts from 'echarts';
import { runLabel } from './labels.js';
import type { BenchReport } from './report.js';

const round = (value: number | undefined, digits: number) =>
  value === undefined ? null : Number(value.toFixed(digits));

/**
 * Two panels, one column per mode: throughput bars with p95 latency above, and below them CPU
 * milliseconds per request, the server's and the load generator's, as SVG rendered by Apache
 * ECharts.
 *
 * @returns the SVG document.
 */
export function renderChart(report: BenchReport): string {
  const chart = echarts.init(null, null, {
    renderer: 'svg',
    ssr: true,
    width: 960,
    height: report.warming === undefined ? 720 : 1060,
  });
  const modes = report.phases.map((p) => runLabel(p.id));
  const axisLabel = { interval: 0, rotate: 20 };
  chart.setOption({
    animation: false,
    backgroundColor: '#ffffff',
    title: [
      {
        text: 'caregraph and its peers: throughput, p95 latency and CPU per request by mode',
        subtext: `${String(report.options.patients)} patients, Zipf portal mix, ${report.machine.nproc} CPUs, commit ${report.commit}`,
        left: 'center',
      },
      {
        text: 'CPU per request (user + system, /proc), server and load generator',
        top: 425,
        left: 'center',
        textStyle: { fontSize: 13 },
      },
      ...(report.warming === undefined
        ? []
        : [
            {
              text: `L2 hit rate per second around an epoch bump (t = 0), ${String(report.warming.bump.ratePerSecond)} req/s of the portal mix, warming on and off`,
              top: 735,
              left: 'center',
              textStyle: { fontSize: 13 },
            },
          ]),
    ],
    legend: { top: 62, itemGap: 24 },
    grid: [
      { top: 110, height: 250, left: 70, right: 70 },
      { top: 480, height: 170, left: 70, right: 70 },
      ...(report.warming === undefined ? [] : [{ top: 790, height: 200, left: 70, right: 70 }]),
    ],
    xAxis: [
      { type: 'category', gridIndex: 0, data: modes, axisLabel },
      { type: 'category', gridIndex: 1, data: modes, axisLabel },
      ...(report.warming === undefined
        ? []
        : [
            {
              type: 'value',
              gridIndex: 2,
              name: 's since bump',
              nameLocation: 'middle',
              nameGap: 25,
            },
          ]),
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, name: 'requests/s' },
      { type: 'value', gridIndex: 0, name: 'p95 ms', splitLine: { show: false } },
      { type: 'value', gridIndex: 1, name: 'CPU ms/request' },
      ...(report.warming === undefined
        ? []
        : [{ type: 'value', gridIndex: 2, name: 'L2 hit rate', min: 0, max: 1 }]),
    ],
    series: [
      {
        name: 'requests/s',
        type: 'bar',
        data: report.phases.map((p) => Math.round(p.load.requestsPerSecond)),
        label: { show: true, position: 'top' },
      },
      {
        name: 'p95 latency (ms)',
        type: 'line',
        yAxisIndex: 1,
        data: report.phases.map((p) => Number(p.load.latencyMs.p95.toFixed(1))),
      },
      {
        name: 'server CPU ms/request',
        type: 'bar',
        xAxisIndex: 1,
        yAxisIndex: 2,
        data: report.phases.map((p) => round(p.cpuMsPerRequest.server, 2)),
        label: { show: true, position: 'top', fontSize: 10 },
      },
      {
        name: 'load generator CPU ms/request',
        type: 'bar',
        xAxisIndex: 1,
        yAxisIndex: 2,
        data: report.phases.map((p) => round(p.cpuMsPerRequest.load, 2)),
      },
      ...(report.warming === undefined
        ? []
        : (['on', 'off'] as const).map((mode) => {
            const series = report.warming?.bump[mode];
            return {
              name: `L2 hit rate, warming ${mode}`,
              type: 'line',
              xAxisIndex: 2,
              yAxisIndex: 3,
              showSymbol: false,
              data: (series?.t ?? []).map((t, i) => [t, series?.hitRate[i] ?? null]),
            };
          })),
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
