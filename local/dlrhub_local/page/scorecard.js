// The scorecard drawn from a GET /scorecard document: SVG charts and the same figures as text.
// Every mark and every figure carries data-row (provider/account/country), data-field (the
// document's name for it) and data-value (the document's value, as JSON), so what is drawn can
// be checked against what the API answered.

const SVG = "http://www.w3.org/2000/svg";

export const PROVIDER_COLOURS = ["#2563eb", "#e67e22", "#0f9d76", "#8e44ad", "#d6336c", "#0e7490", "#65a30d", "#b45309"];

/** The outcomes of a submitted message, in the order they are stacked. */
export const OUTCOMES = [
  { field: "delivered", label: "delivered", colour: "#16a34a" },
  { field: "failed", label: "failed", colour: "#dc2626" },
  { field: "unknown", label: "unknown", colour: "#f59e0b" },
  { field: "sent", label: "sent, no receipt", colour: "#7dd3fc" },
  { field: "pending", label: "pending", colour: "#d4d4d8" },
];

// ---- words and numbers ------------------------------------------------------------------------

export function formatCount(value) {
  return value === null || value === undefined ? "–" : Number(value).toLocaleString("en-US");
}

export function formatRate(rate) {
  return rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)} %`;
}

/** 5 -> "5 s", 120 -> "2 min", 5400 -> "1.5 h", 259200 -> "3 d". */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const [size, unit] =
    seconds < 60 ? [1, "s"] : seconds < 3600 ? [60, "min"] : seconds < 86400 ? [3600, "h"] : [86400, "d"];
  const amount = seconds / size;
  return `${Number.isInteger(amount) ? amount : amount.toFixed(1)} ${unit}`;
}

/** A latency bucket's upper bound ("≤ 30 s"), or "more" for the last, open one. */
export function bucketLabel(le) {
  return le === null || le === undefined ? "more" : `≤ ${formatSeconds(le)}`;
}

/** A bucket's bound on the chart's axis, short: "30s", "2m", "4h", "3d", "more". */
export function axisLabel(le) {
  if (le === null || le === undefined) return "more";
  return formatSeconds(le).replace(" min", "m").replace(" ", "");
}

/** A percentile read from the histogram: the upper bound of its bucket. */
export function percentileText(seconds) {
  return seconds === null || seconds === undefined ? "–" : `≤ ${formatSeconds(seconds)}`;
}

/** "USD 0.04800000"; "USD –" where no priced message was delivered (per_delivered null). */
export function costText(cost) {
  return `${cost.currency} ${cost.per_delivered ?? "–"}`;
}

export function failuresText(row) {
  const statuses = Object.entries(row.failed_by_status || {})
    .filter(([, count]) => count > 0)
    .map(([status, count]) => `${status} ${count}`);
  const words = (row.top_failure_words || []).map((found) => `“${found.word}” ${found.count}`);
  return [statuses.join(" · "), words.join(" · ")].filter(Boolean).join("; ") || "–";
}

export function rowKey(row) {
  return `${row.provider}/${row.account}/${row.country}`;
}

export function rowName(row) {
  return `${row.provider} · ${row.account}`;
}

let regionNames = null;
export function countryName(code) {
  if (code === "ZZ") return "Unknown country";
  try {
    regionNames ??= new Intl.DisplayNames(["en"], { type: "region" });
    return regionNames.of(code) || code;
  } catch {
    return code;
  }
}

// ---- grouping ----------------------------------------------------------------------------------

/** Sender (provider · account) -> colour, the same in every country's charts. */
export function senderColours(rows) {
  const senders = [...new Set(rows.map(rowName))].sort();
  return new Map(senders.map((name, index) => [name, PROVIDER_COLOURS[index % PROVIDER_COLOURS.length]]));
}

/** [country, rows] with the busiest country first and the unknown one last; rows in the document's order. */
export function byCountry(rows) {
  const groups = new Map();
  for (const row of rows) {
    if (!groups.has(row.country)) groups.set(row.country, []);
    groups.get(row.country).push(row);
  }
  const submitted = (list) => list.reduce((sum, row) => sum + row.submitted, 0);
  return [...groups.entries()].sort(
    ([a, left], [b, right]) =>
      (a === "ZZ") - (b === "ZZ") || submitted(right) - submitted(left) || a.localeCompare(b),
  );
}

/** The window's totals over ``rows``; the rate as the API defines it, delivered / (delivered + failed + unknown). */
export function totals(rows) {
  const sum = (field) => rows.reduce((total, row) => total + (row[field] || 0), 0);
  const found = Object.fromEntries(["submitted", "delivered", "failed", "unknown", "sent", "pending"].map((f) => [f, sum(f)]));
  const final = found.delivered + found.failed + found.unknown;
  found.delivery_rate = final ? found.delivered / final : null;
  return found;
}

// ---- drawing -----------------------------------------------------------------------------------

export function el(name, attributes = {}, ...children) {
  const node = document.createElement(name);
  setAll(node, attributes);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function svgEl(name, attributes = {}, ...children) {
  const node = document.createElementNS(SVG, name);
  setAll(node, attributes);
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

function setAll(node, attributes) {
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) node.setAttribute(key, String(value));
  }
}

/** The attributes that tie a mark to the document: its row, its field, its value. */
function marks(row, field, value, extra = {}) {
  return { "data-row": rowKey(row), "data-field": field, "data-value": JSON.stringify(value ?? null), ...extra };
}

function tooltip(text) {
  return svgEl("title", {}, text);
}

function chart(width, height, label, ...children) {
  return svgEl("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, class: "chart" }, ...children);
}

const LABEL_WIDTH = 128;
const BAR_HEIGHT = 18;
const ROW_GAP = 10;

/** One horizontal bar per sender: delivered out of the messages that reached a final status. */
export function rateChart(rows, colours) {
  const width = 460;
  const track = width - LABEL_WIDTH - 110;
  const height = rows.length * (BAR_HEIGHT + ROW_GAP) + 18;
  const parts = [];
  for (const [tick, x] of [0, 0.5, 1].map((t) => [t, LABEL_WIDTH + t * track])) {
    parts.push(svgEl("line", { x1: x, x2: x, y1: 0, y2: height - 16, class: "grid" }));
    parts.push(svgEl("text", { x, y: height - 4, class: "axis", "text-anchor": "middle" }, `${tick * 100} %`));
  }
  rows.forEach((row, index) => {
    const y = index * (BAR_HEIGHT + ROW_GAP) + 4;
    const rate = row.delivery_rate;
    const final = row.delivered + row.failed + row.unknown;
    parts.push(svgEl("text", { x: LABEL_WIDTH - 8, y: y + 13, class: "label", "text-anchor": "end" }, rowName(row)));
    parts.push(svgEl("rect", { x: LABEL_WIDTH, y, width: track, height: BAR_HEIGHT, class: "track", rx: 3 }));
    parts.push(
      svgEl(
        "rect",
        { x: LABEL_WIDTH, y, width: rate === null ? 0 : Math.max(rate * track, 1.5), height: BAR_HEIGHT, rx: 3,
          fill: colours.get(rowName(row)), ...marks(row, "delivery_rate", rate) },
        tooltip(`${rowName(row)}: ${formatRate(rate)} of ${final} final`),
      ),
    );
    parts.push(
      svgEl("text", { x: LABEL_WIDTH + track + 8, y: y + 13 },
        svgEl("tspan", { class: "value", ...marks(row, "delivery_rate", rate, { "data-label": "" }) },
          rate === null ? "no final yet" : formatRate(rate)),
        rate === null ? null : svgEl("tspan", { class: "note", dx: 5 }, `of ${formatCount(final)}`)),
    );
  });
  return chart(width, height, "delivery rate per provider", ...parts);
}

/** One stacked bar per sender, scaled to the busiest: what became of the messages submitted. */
export function outcomeChart(rows) {
  const width = 460;
  const track = width - LABEL_WIDTH - 64;
  const height = rows.length * (BAR_HEIGHT + ROW_GAP);
  const most = Math.max(1, ...rows.map((row) => OUTCOMES.reduce((sum, o) => sum + row[o.field], 0)));
  const parts = [];
  rows.forEach((row, index) => {
    const y = index * (BAR_HEIGHT + ROW_GAP) + 4;
    parts.push(svgEl("text", { x: LABEL_WIDTH - 8, y: y + 13, class: "label", "text-anchor": "end" }, rowName(row)));
    let x = LABEL_WIDTH;
    for (const outcome of OUTCOMES) {
      const count = row[outcome.field];
      const size = (count / most) * track;
      parts.push(
        svgEl("rect", { x, y, width: size, height: BAR_HEIGHT, fill: outcome.colour, ...marks(row, outcome.field, count) },
          tooltip(`${rowName(row)}: ${formatCount(count)} ${outcome.label}`)),
      );
      x += size;
    }
    parts.push(svgEl("text", { x: x + 6, y: y + 13, class: "value", ...marks(row, "submitted", row.submitted, { "data-label": "" }) },
      formatCount(row.submitted)));
  });
  return chart(width, height, "outcomes per provider", ...parts);
}

export function outcomeLegend() {
  return el("ul", { class: "legend" }, ...OUTCOMES.map((o) => el("li", {}, swatch(o.colour), o.label)));
}

function swatch(colour) {
  const mark = el("span", { class: "swatch" });
  mark.style.background = colour;
  return mark;
}

/** Time from submission to final status: per bucket, each sender's share of its final messages, side by side. */
export function latencyChart(rows, colours) {
  const buckets = rows[0]?.latency?.buckets || [];
  const width = 940;
  const height = 190;
  const left = 40;
  const bottom = 26;
  const plot = height - bottom - 12;
  const slot = (width - left) / Math.max(1, buckets.length);
  const bar = Math.min(16, (slot - 6) / Math.max(1, rows.length));
  const finals = rows.map((row) => row.latency.buckets.reduce((sum, b) => sum + b.count, 0));
  const shares = rows.map((row, i) => row.latency.buckets.map((b) => (finals[i] ? b.count / finals[i] : 0)));
  const top = niceTop(Math.max(...shares.flat(), 0));
  const parts = [];
  if (!finals.some(Boolean)) {
    parts.push(svgEl("text", { x: left + (width - left) / 2, y: 12 + plot / 2, class: "empty", "text-anchor": "middle" },
      "no final status yet"));
  }
  for (const tick of [0, top / 2, top]) {
    const y = 12 + plot - (tick / top) * plot;
    parts.push(svgEl("line", { x1: left, x2: width, y1: y, y2: y, class: "grid" }));
    parts.push(svgEl("text", { x: left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, `${Math.round(tick * 1000) / 10} %`));
  }
  buckets.forEach((bucket, b) => {
    const x0 = left + b * slot + (slot - bar * rows.length) / 2;
    parts.push(svgEl("text", { x: left + b * slot + slot / 2, y: height - 8, class: "axis", "text-anchor": "middle" },
      axisLabel(bucket.le_seconds)));
    rows.forEach((row, r) => {
      const count = row.latency.buckets[b].count;
      const size = (shares[r][b] / top) * plot;
      parts.push(
        svgEl("rect", { x: x0 + r * bar, y: 12 + plot - size, width: Math.max(bar - 2, 1), height: size,
          fill: colours.get(rowName(row)), ...marks(row, "latency", count, { "data-bucket": b }) },
        tooltip(`${rowName(row)}, ${bucketLabel(bucket.le_seconds)}: ${formatCount(count)} (${formatRate(shares[r][b])})`)),
      );
    });
  });
  return chart(width, height, "time to final status per provider", ...parts);
}

/** The y axis' top: the largest share rounded up to 10 % (5 % below 20 %). */
function niceTop(share) {
  const step = share < 0.2 ? 0.05 : 0.1;
  return Math.max(step, Math.ceil(share / step - 1e-9) * step);
}

/** Each sender's p50 / p95 / p99, as text beside the histogram. */
export function percentiles(rows, colours) {
  return el(
    "ul",
    { class: "percentiles" },
    ...rows.map((row) =>
      el(
        "li",
        {},
        swatch(colours.get(rowName(row))),
        el("span", { class: "who" }, rowName(row)),
        ...["p50", "p95", "p99"].map((p) => {
          const value = row.latency[`${p}_seconds`];
          return el("span", { class: "pct" }, `${p} `, el("b", marks(row, `${p}_seconds`, value), percentileText(value)));
        }),
      ),
    ),
  );
}

/** Cost per delivered message, a bar per sender within each currency (only currencies the providers reported). */
export function costChart(rows, colours) {
  const priced = rows.flatMap((row) => (row.cost || []).filter((c) => c.per_delivered !== null).map((cost) => ({ row, cost })));
  if (!priced.length) return null;
  const width = 460;
  const track = width - LABEL_WIDTH - 120;
  const most = new Map();
  for (const { cost } of priced) most.set(cost.currency, Math.max(most.get(cost.currency) || 0, Number(cost.per_delivered)));
  const height = priced.length * (BAR_HEIGHT + ROW_GAP);
  const parts = [];
  priced.forEach(({ row, cost }, index) => {
    const y = index * (BAR_HEIGHT + ROW_GAP) + 4;
    const share = most.get(cost.currency) ? Number(cost.per_delivered) / most.get(cost.currency) : 0;
    parts.push(svgEl("text", { x: LABEL_WIDTH - 8, y: y + 13, class: "label", "text-anchor": "end" }, rowName(row)));
    parts.push(svgEl("rect", { x: LABEL_WIDTH, y, width: Math.max(share * track, 1.5), height: BAR_HEIGHT, rx: 3,
      fill: colours.get(rowName(row)), ...marks(row, "cost.per_delivered", cost.per_delivered, { "data-currency": cost.currency }) },
      tooltip(`${rowName(row)}: ${cost.currency} ${cost.total} for ${cost.delivered} delivered`)));
    parts.push(svgEl("text", { x: LABEL_WIDTH + Math.max(share * track, 1.5) + 6, y: y + 13, class: "value",
      ...marks(row, "cost.per_delivered", cost.per_delivered, { "data-currency": cost.currency, "data-label": "" }) },
      costText(cost)));
  });
  return chart(width, height, "cost per delivered message", ...parts);
}

const TABLE_FIELDS = ["submitted", "delivered", "failed", "unknown", "sent", "pending"];

/** The country's figures as text: one line per sender. */
export function figuresTable(rows, colours) {
  const head = el("tr", {}, el("th", {}, "provider"), ...TABLE_FIELDS.map((f) => el("th", { class: "num" }, f)),
    el("th", { class: "num" }, "delivery rate"), el("th", { class: "num" }, "to final: p50 · p95 · p99"),
    el("th", { class: "num" }, "cost / delivered"), el("th", {}, "failures"));
  const body = rows.map((row) => {
    const cell = (field, value, text) => el("td", { class: "num", ...marks(row, field, value) }, text);
    return el("tr", { "data-row": rowKey(row) },
      el("th", { scope: "row" }, swatch(colours.get(rowName(row))), rowName(row)),
      ...TABLE_FIELDS.map((f) => cell(f, row[f], formatCount(row[f]))),
      cell("delivery_rate", row.delivery_rate, formatRate(row.delivery_rate)),
      el("td", { class: "num" }, ...["p50", "p95", "p99"].flatMap((p, i) => [i ? " · " : null,
        el("span", marks(row, `${p}_seconds`, row.latency[`${p}_seconds`]), percentileText(row.latency[`${p}_seconds`]))])),
      el("td", { class: "num" }, ...(row.cost || []).flatMap((cost, i) => [i ? el("br") : null,
        el("span", marks(row, "cost.per_delivered", cost.per_delivered, { "data-currency": cost.currency }), costText(cost))])),
      el("td", { class: "failures", ...marks(row, "failures", { failed_by_status: row.failed_by_status, top_failure_words: row.top_failure_words }) },
        failuresText(row)),
    );
  });
  return el("div", { class: "table-wrap" }, el("table", { class: "figures" }, el("thead", {}, head), el("tbody", {}, ...body)));
}

/** The histogram's counts as text, one line per sender (folded away by default). */
export function latencyTable(rows) {
  const buckets = rows[0]?.latency?.buckets || [];
  const head = el("tr", {}, el("th", {}, "provider"), ...buckets.map((b) => el("th", { class: "num" }, bucketLabel(b.le_seconds))));
  const body = rows.map((row) => el("tr", { "data-row": rowKey(row) }, el("th", { scope: "row" }, rowName(row)),
    ...row.latency.buckets.map((b, i) => el("td", { class: "num", ...marks(row, "latency", b.count, { "data-bucket": i }) }, formatCount(b.count)))));
  return el("details", { class: "latency-counts" }, el("summary", {}, "messages per latency bucket"),
    el("table", { class: "figures compact" }, el("thead", {}, head), el("tbody", {}, ...body)));
}

function figure(title, note, ...content) {
  return el("figure", {}, el("figcaption", {}, el("b", {}, title), note ? el("span", { class: "muted" }, ` ${note}`) : null), ...content);
}

/** A country's card: its senders side by side in each chart, then the figures. */
export function countryCard(country, rows, colours) {
  const total = totals(rows);
  const cost = costChart(rows, colours);
  return el(
    "article",
    { class: "country", "data-country": country },
    el("header", {},
      el("h3", {}, countryName(country), el("span", { class: "code" }, country)),
      el("span", { class: "muted" }, `${rows.length} sender${rows.length === 1 ? "" : "s"} · ${formatCount(total.submitted)} submitted · ${formatRate(total.delivery_rate)} delivered`)),
    el("div", { class: "charts" },
      figure("Delivery rate", "delivered ÷ (delivered + failed + unknown)", rateChart(rows, colours)),
      figure("Outcomes", "of the messages submitted", outcomeChart(rows), outcomeLegend()),
      el("div", { class: "wide" }, figure("Time to final status", "share of each sender’s final messages, by the bucket’s upper bound",
        latencyChart(rows, colours), percentiles(rows, colours))),
      cost ? figure("Cost per delivered message", "where the provider reports a price", cost) : null,
    ),
    figuresTable(rows, colours),
    latencyTable(rows),
  );
}

/** The window's totals, as tiles. */
export function totalTiles(rows) {
  const total = totals(rows);
  const tile = (label, field, text) => el("div", { class: "tile" }, el("span", { class: "tile-label" }, label),
    el("span", { class: "tile-value", "data-total": field, "data-value": JSON.stringify(total[field]) }, text));
  return [
    tile("submitted", "submitted", formatCount(total.submitted)),
    tile("delivered", "delivered", formatCount(total.delivered)),
    tile("failed", "failed", formatCount(total.failed)),
    tile("pending", "pending", formatCount(total.pending)),
    tile("delivery rate", "delivery_rate", formatRate(total.delivery_rate)),
  ];
}

/** Everything the document holds, as one list of country cards. */
export function renderScorecard(doc) {
  const colours = senderColours(doc.rows);
  return byCountry(doc.rows).map(([country, rows]) => countryCard(country, rows, colours));
}
