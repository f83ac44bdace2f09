// Regenerates data/energy_load.csv: a deterministic, realistic-looking hourly time series
// (timestamp, weather features, target) shaped like the files users bring. Run: node data/generate-sample.mjs
import { writeFileSync } from 'node:fs';

let state = 20240101;
const rand = () => {
  state = (state * 1664525 + 1013904223) >>> 0;
  return state / 2 ** 32;
};
const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

const rows = [
  'timestamp,hour,day_of_week,temperature_c,humidity_pct,wind_speed_ms,pressure_hpa,is_holiday,target',
];
const start = Date.UTC(2024, 0, 1);
for (let i = 0; i < 1500; i++) {
  const t = new Date(start + i * 3600_000);
  const hour = t.getUTCHours();
  const dow = t.getUTCDay();
  const day = i / 24;
  const temperature =
    8 +
    10 * Math.sin((2 * Math.PI * (day - 100)) / 365) +
    6 * Math.sin((2 * Math.PI * (hour - 9)) / 24) +
    2 * gauss();
  const humidity = Math.min(100, Math.max(15, 70 - 1.5 * (temperature - 10) + 8 * gauss()));
  const wind = Math.max(0, 4 + 2.5 * gauss());
  const pressure = 1013 + 8 * gauss();
  const holiday = rand() < 0.03;
  const weekend = dow === 0 || dow === 6;
  const daily = 120 + 60 * Math.exp(-((hour - 19) ** 2) / 8) + 40 * Math.exp(-((hour - 8) ** 2) / 6);
  const target =
    daily * (weekend || holiday ? 0.8 : 1) + 3.2 * Math.abs(temperature - 16) + 0.6 * wind + 6 * gauss();
  const missing = rand() < 0.01;
  rows.push(
    [
      t.toISOString().slice(0, 19) + 'Z',
      hour,
      dow,
      temperature.toFixed(2),
      missing ? '' : humidity.toFixed(1),
      wind.toFixed(2),
      pressure.toFixed(1),
      holiday ? 'true' : 'false',
      target.toFixed(2),
    ].join(','),
  );
}
writeFileSync(new URL('./energy_load.csv', import.meta.url), rows.join('\n') + '\n');
console.log(`wrote ${rows.length - 1} rows`);
