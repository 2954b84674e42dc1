// automation.js: automation lanes in the arrangement (arrange.js draws them
// under their track and turns gestures into edits; this module knows what a
// lane can automate and how its curve goes between points).
//
// A lane (shared/ type 'lane') lives under a track (its gain or pan, param =
// the property number), a device (param = the parameter's index) or a send
// (its level); its points ('point': start, value, curve, tension) are
// breakpoints. Ranges are the model's (the schema's for gain, pan and level;
// the device table's for parameters), so a value is clamped to what the
// model accepts. The curve between two points is the engine's
// (engine/README.md, Automation), over time in seconds through the tempo map.
import { PROPS } from './model.js';

export const CURVES = ['Linear', 'Hold', 'Exponential', 'S-curve']; // MDL_CURVE_* order (shared/mdl_project.h)

// Ranges of the properties a track or send lane automates: must match
// shared/mdl_schema.c (track gain 0..4, pan -1..1; send level 0..4).
const PROP_RANGES = { gain: [0, 4], pan: [-1, 1], level: [0, 4] };

// Everything TRACK's automation may target, in order: the track's gain and
// pan, each device's parameters, each send's level. Each is {key, owner,
// param, name, min, max, unit, def}; key is "owner:param".
export function targetsOf(model, track, kinds) {
  const out = [];
  const prop = (owner, name, label, def) => {
    const [min, max] = PROP_RANGES[name];
    out.push({ key: `${owner}:${PROPS[name][0]}`, owner, param: PROPS[name][0], name: label, min, max, unit: '', def });
  };
  prop(track, 'gain', 'Gain', model.get(track, 'gain'));
  prop(track, 'pan', 'Pan', model.get(track, 'pan'));
  for (const dev of model.children(track, 'device')) {
    const desc = kinds.get(model.get(dev, 'kind'));
    if (!desc) continue;
    const dname = model.get(dev, 'name') || desc.name;
    desc.params.forEach((p, i) =>
      out.push({
        key: `${dev}:${i}`,
        owner: dev,
        param: i,
        name: `${dname} · ${p.name.split(':')[0]}`,
        min: p.min,
        max: p.max,
        unit: p.unit,
        def: model.get(dev, `p${i}`),
      }),
    );
  }
  for (const send of model.children(track, 'send')) {
    const to = model.get(send, 'target');
    prop(send, 'level', `Send to ${to ? model.get(to, 'name') : '?'}`, model.get(send, 'level'));
  }
  return out;
}

// The lanes that exist under TRACK and its devices and sends: [{id, key, on}].
export function lanesOf(model, track) {
  const owners = [track, ...model.children(track, 'device'), ...model.children(track, 'send')];
  const out = [];
  for (const owner of owners)
    for (const id of model.children(owner, 'lane'))
      out.push({ id, key: `${owner}:${model.get(id, 'param')}`, on: model.get(id, 'on') });
  return out;
}

// LANE's points sorted by start: [{id, start, value, curve, tension}].
export function pointsOf(model, lane) {
  return model
    .children(lane, 'point')
    .map((id) => ({
      id,
      start: model.get(id, 'start'),
      value: model.get(id, 'value'),
      curve: model.get(id, 'curve'),
      tension: model.get(id, 'tension'),
    }))
    .sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1));
}

// The engine's shape of CURVE at T (0..1 of the way to the next point).
export function shape(curve, tension, t) {
  if (curve === 1) return t < 1 ? 0 : 1; // hold: the step lands on the next point
  if (curve === 2) {
    const k = 4 + 4 * tension;
    return Math.abs(k) < 1e-9 ? t : Math.expm1(k * t) / Math.expm1(k);
  }
  if (curve === 3) {
    const a = 2 ** (1 + tension);
    const x = t ** a;
    return x / (x + (1 - t) ** a);
  }
  return t;
}

// The value of POINTS (sorted) at TICK: before the first the first holds,
// after the last the last; between, the curve of the earlier one over time
// (SECONDS(tick) through the tempo map, as the engine plays it in frames).
export function valueAt(points, tick, seconds) {
  if (!points.length) return null;
  if (tick <= points[0].start) return points[0].value;
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i];
    const b = points[i + 1];
    if (tick >= b.start) continue;
    const s0 = seconds(a.start);
    const span = seconds(b.start) - s0;
    const t = span > 0 ? (seconds(tick) - s0) / span : 1;
    return a.value + (b.value - a.value) * shape(a.curve, a.tension, Math.max(0, Math.min(1, t)));
  }
  return points[points.length - 1].value;
}

export const clamp = (v, min, max) => Math.max(min, Math.min(max, v));

// A value as text with its unit.
export function fmtValue(v, target) {
  const u = target.unit && target.unit !== 'linear' && target.unit !== 'choice' ? ` ${target.unit}` : '';
  return `${Math.abs(v) >= 100 ? Math.round(v) : +v.toFixed(2)}${u}`;
}
