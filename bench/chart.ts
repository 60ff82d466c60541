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
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: 960, height: 720 });
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
    ],
    legend: { top: 62, itemGap: 24 },
    grid: [
      { top: 110, height: 250, left: 70, right: 70 },
      { top: 480, height: 170, left: 70, right: 70 },
    ],
    xAxis: [
      { type: 'category', gridIndex: 0, data: modes, axisLabel },
      { type: 'category', gridIndex: 1, data: modes, axisLabel },
    ],
    yAxis: [
      { type: 'value', gridIndex: 0, name: 'requests/s' },
      { type: 'value', gridIndex: 0, name: 'p95 ms', splitLine: { show: false } },
      { type: 'value', gridIndex: 1, name: 'CPU ms/request' },
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
    ],
  });
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}
