/**
 * Self time of a V8 CPU profile (`node --cpu-prof`), summed by subsystem: the npm package a
 * function belongs to, caregraph's own module folder (`src/cache`, `src/http`, …), Node's
 * internals, or V8's pseudo-frames (GC, program). Idle time is left out of the total.
 */

export interface CpuProfile {
  readonly nodes: ReadonlyArray<{
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
  }>;
  readonly samples: ReadonlyArray<number>;
  readonly timeDeltas: ReadonlyArray<number>;
  readonly startTime: number;
  readonly endTime: number;
}

/** Microseconds of the profile to summarize, counted back from its end. */
export interface ProfileWindow {
  /** Where the window ends: this long before the profile's end (the server's shutdown). */
  readonly skipEndMicros: number;
  readonly lengthMicros: number;
}

export interface SubsystemShare {
  readonly name: string;
  /** Share of the profile's non-idle time, 0–100. */
  readonly percent: number;
}

/** The subsystem a profile frame belongs to. */
export function subsystemOf(url: string, functionName: string, root: string): string {
  if (url === '') {
    // V8's own frames: (garbage collector), (program), (idle), (root).
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  if (url.startsWith('node:')) return '(node internals)';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = path.slice(modules + '/node_modules/'.length).split('/');
    const scoped = parts[0]?.startsWith('@') === true;
    return scoped ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? path);
  }
  const relative = path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
  const parts = relative.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}` : (parts[0] ?? relative);
}

/**
 * Self time by subsystem, largest first, over a window of the profile: the measured requests,
 * without the start-up (module loading dwarfs everything) or the shutdown.
 */
export function summarizeProfile(
  profile: CpuProfile,
  root: string,
  window?: ProfileWindow,
): SubsystemShare[] {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const totals = new Map<string, number>();
  const to = profile.endTime - (window?.skipEndMicros ?? 0);
  const from = window === undefined ? -Infinity : to - window.lengthMicros;
  let at = profile.startTime;
  let all = 0;
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (frame === undefined || at < from || at > to) return;
    const name = subsystemOf(frame.url, frame.functionName, root);
    if (name === '(idle)') return;
    all += delta;
    totals.set(name, (totals.get(name) ?? 0) + delta);
  });
  return [...totals]
    .map(([name, time]) => ({ name, percent: all === 0 ? 0 : (100 * time) / all }))
    .sort((a, b) => b.percent - a.percent);
}
