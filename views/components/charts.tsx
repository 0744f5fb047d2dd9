import { scaleBand, scaleLinear } from 'd3-scale';
import { arc, pie } from 'd3-shape';
import type { BadgeTone } from './badge.tsx';

/**
 * Server-rendered SVG charts. d3-scale and d3-shape compute the geometry; the markup is
 * plain SVG with classes for colour (the CSP allows no inline styles), a `<title>` per mark
 * for hover, and the numbers written out so the chart reads without a mouse too.
 */
export type Datum = { label: string; value: number; title?: string; tone?: BadgeTone };

const numbers = new Intl.NumberFormat('en');

/** Horizontal bars, one per datum, largest first as given. */
export function BarChart({ data, label }: { data: Datum[]; label: string }) {
  // About the size it is shown at, so 12-unit text reads as 12 px.
  const width = 320;
  const labelWidth = 72;
  const valueWidth = 56;
  const rowHeight = 26;
  const height = Math.max(1, data.length) * rowHeight;
  const y = scaleBand<string>()
    .domain(data.map((d) => d.label))
    .range([0, height])
    .paddingInner(0.25);
  const x = scaleLinear()
    .domain([0, Math.max(1, ...data.map((d) => d.value))])
    .range([0, width - labelWidth - valueWidth]);
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`${label}: ${data.map((d) => `${d.label} ${d.value}`).join(', ')}`}
    >
      {data.map((d) => {
        const top = y(d.label) ?? 0;
        const mid = top + y.bandwidth() / 2;
        return (
          <g data-label={d.label} data-value={d.value}>
            <title>{`${d.title ?? d.label}: ${numbers.format(d.value)}`}</title>
            <text x={labelWidth - 8} y={mid} text-anchor="end" dominant-baseline="middle">
              {d.label}
            </text>
            <rect
              class={d.tone ? `bar tone-${d.tone}` : 'bar'}
              x={labelWidth}
              y={top}
              width={Math.max(d.value > 0 ? 2 : 0, x(d.value))}
              height={y.bandwidth()}
              rx={3}
            />
            <text class="value" x={labelWidth + x(d.value) + 6} y={mid} dominant-baseline="middle">
              {numbers.format(d.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** A donut of parts of a whole, with the total in the middle and a legend below. */
export function DonutChart({ data, label }: { data: Datum[]; label: string }) {
  const size = 180;
  const radius = size / 2;
  const total = data.reduce((s, d) => s + d.value, 0);
  const slices = pie<Datum>()
    .value((d) => d.value)
    .sort(null)(data.filter((d) => d.value > 0));
  const shape = arc<(typeof slices)[number]>()
    .innerRadius(radius * 0.62)
    .outerRadius(radius - 2)
    .padAngle(slices.length > 1 ? 0.015 : 0);
  return (
    <figure class="donut">
      <svg
        class="chart"
        viewBox={`${-radius} ${-radius} ${size} ${size}`}
        role="img"
        aria-label={`${label}: ${data.map((d) => `${d.label} ${d.value}`).join(', ')}`}
      >
        {slices.map((s) => (
          <path
            class={`tone-${s.data.tone ?? 'info'}`}
            d={shape(s) ?? ''}
            data-label={s.data.label}
          >
            <title>{`${s.data.title ?? s.data.label}: ${numbers.format(s.data.value)}`}</title>
          </path>
        ))}
        <text class="big" text-anchor="middle" dominant-baseline="middle" y={-6}>
          {numbers.format(total)}
        </text>
        <text class="value" text-anchor="middle" dominant-baseline="middle" y={18}>
          {label}
        </text>
      </svg>
      <ul class="legend">
        {data.map((d) => (
          <li>
            <span class={`swatch tone-${d.tone ?? 'info'}`} />
            {d.label} <strong>{numbers.format(d.value)}</strong>
          </li>
        ))}
      </ul>
    </figure>
  );
}
