/** Live progress on stderr (cli-progress, redrawn at most 5×/s) when `enabled`; nothing at all otherwise. */
import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(done: number, total: number): void;
  stop(): void;
}

const SILENT: ProgressReporter = { update() {}, stop() {} };

export function progressReporter(stream: NodeJS.WritableStream, label: string, enabled: boolean): ProgressReporter {
  if (!enabled) return SILENT;
  const bar = new cliProgress.SingleBar({
    stream: stream as NodeJS.WritableStream,
    format: `${label} {bar} {percentage}% | {doneMB}/{totalMB} MB | {speed} MB/s | ETA {eta_formatted}`,
    fps: 5,
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  const started = process.hrtime.bigint();
  let running = false;
  return {
    update(done, total) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const payload = {
        doneMB: (done / 1e6).toFixed(0),
        totalMB: (total / 1e6).toFixed(0),
        speed: seconds > 0 ? (done / 1e6 / seconds).toFixed(0) : '0',
      };
      if (!running) {
        bar.start(total, done, payload);
        running = true;
      } else bar.update(done, payload);
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}
