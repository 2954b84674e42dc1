// tempo.js: the song's tempo and meter map, as the wasm model computes it
// (shared/mdl_time.c through wasm/wasm_exports.c's wasm_time_*), for the
// arrangement's ruler, grid, waveforms, automation curves and playhead.
// Nothing here computes musical time itself: every answer is mdl_time's,
// so the page, the server's plans and the engine agree on where bar 9 is.
import { PPQ } from './timeline.js';

export class TimeMap {
  constructor(model) {
    this.m = model.m; // the wasm module
  }
  // Seconds from tick 0 to TICK (fractional ticks are interpolated).
  seconds(tick) {
    return this.m._wasm_time_seconds(tick);
  }
  // The tick at SECONDS.
  tick(seconds) {
    return this.m._wasm_time_tick(seconds);
  }
  bpm(tick) {
    return this.m._wasm_time_bpm(tick);
  }
  // The first tick of bar BAR (0-based).
  barTick(bar) {
    return this.m._wasm_time_bar_tick(bar);
  }
  // {bar, beat, ticks, num, den} at TICK: bar and beat 0-based.
  bbt(tick) {
    const m = this.m;
    const bar = m._wasm_time_bbt(tick);
    return { bar, beat: m._wasm_time_beat(), ticks: m._wasm_time_beat_ticks(), num: m._wasm_time_num(), den: m._wasm_time_den() };
  }
  // The bars that overlap ticks [T0, T1]: [{bar, tick, num, den, beat}] with
  // BEAT the beat's length in ticks.
  bars(t0, t1) {
    const out = [];
    let { bar } = this.bbt(Math.max(0, t0));
    for (let i = 0; i < 4096; i++, bar++) {
      const tick = this.barTick(bar);
      if (tick > t1) break;
      const b = this.bbt(tick);
      out.push({ bar, tick, num: b.num, den: b.den, beat: (PPQ * 4) / b.den });
    }
    return out;
  }
  // "bar.beat" (1-based), or "bar.beat.sixteenth" with SIXTEENTHS.
  format(tick, sixteenths = false) {
    const b = this.bbt(Math.max(0, Math.round(tick)));
    const s = `${b.bar + 1}.${b.beat + 1}`;
    return sixteenths ? `${s}.${Math.floor(b.ticks / (PPQ / 4)) + 1}` : s;
  }
}
