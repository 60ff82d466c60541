import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('loadConfig: METRICS_PORT', () => {
  it('leaves /metrics on PORT when unset or empty', () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '' }).metricsPort).toBeUndefined();
  });

  it('reads a port from 1 to 65535', () => {
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(loadConfig({ METRICS_PORT: '1' }).metricsPort).toBe(1);
    expect(loadConfig({ METRICS_PORT: '65535' }).metricsPort).toBe(65535);
  });

  it('refuses anything but a port number, with a clear message', () => {
    for (const value of ['0', '65536', '-1', '9464.5', 'metrics', '0x10']) {
      expect(() => loadConfig({ METRICS_PORT: value }), value).toThrow(
        /METRICS_PORT: must be a port number from 1 to 65535/,
      );
    }
  });

  it('refuses the port of the API itself', () => {
    expect(() => loadConfig({ METRICS_PORT: '4000' })).toThrow(
      /METRICS_PORT: must differ from PORT/,
    );
    expect(() => loadConfig({ PORT: '8080', METRICS_PORT: '8080' })).toThrow(
      /METRICS_PORT: must differ from PORT/,
    );
    expect(loadConfig({ PORT: '8080', METRICS_PORT: '4000' }).metricsPort).toBe(4000);
  });
});
