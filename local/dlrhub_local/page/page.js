// The page: the scorecard (GET /scorecard, read again every few seconds and soon after a report
// arrives) and the messages arriving live (server-sent events from /local/feed).

import { el, renderScorecard, totalTiles } from "./scorecard.js";
import { startFeed } from "./live.js";

const REFRESH_MS = 10000;
const AFTER_REPORT_MS = 1500;

const filters = document.getElementById("filters");
const seen = { country: new Set(), provider: new Set() };
let refreshTimer = null;
let generation = 0;

/** The window of the last ``hours`` hours, whole hours, as the API reads them. */
export function windowOf(hours, now = new Date()) {
  const to = new Date(now);
  to.setUTCMinutes(0, 0, 0);
  to.setUTCHours(to.getUTCHours() + 1);
  const from = new Date(to.getTime() - hours * 3600 * 1000);
  const iso = (date) => date.toISOString().replace(".000Z", "Z");
  return { from: iso(from), to: iso(to) };
}

function query() {
  const form = new FormData(filters);
  const params = new URLSearchParams(windowOf(Number(form.get("hours"))));
  for (const name of ["country", "provider"]) if (form.get(name)) params.set(name, form.get(name));
  return params;
}

function remember(rows) {
  for (const name of ["country", "provider"]) {
    const select = filters.elements[name];
    for (const row of rows) {
      if (seen[name].has(row[name])) continue;
      seen[name].add(row[name]);
      const options = [...seen[name]].sort();
      const chosen = select.value;
      select.replaceChildren(el("option", { value: "" }, "all"), ...options.map((v) => el("option", { value: v }, v)));
      select.value = chosen;
    }
  }
}

function say(text, kind = "") {
  const status = document.getElementById("scorecard-status");
  status.textContent = text;
  status.dataset.kind = kind;
}

/** Read the scorecard and draw it; a reply older than one asked since is dropped. */
export async function refresh() {
  const asked = ++generation;
  const params = query();
  let doc;
  try {
    const reply = await fetch(`/scorecard?${params}`, { headers: { accept: "application/json" } });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(`GET /scorecard answered ${reply.status}${body.message ? `: ${body.message}` : ""}`);
    doc = body;
  } catch (error) {
    if (asked === generation) say(error.message, "error");
    return;
  }
  if (asked !== generation) return;
  const section = document.querySelector(".scorecard");
  section.dataset.from = doc.from;
  section.dataset.to = doc.to;
  section.dataset.query = params.toString();
  section.dataset.loaded = String(asked);
  const shown = (iso) => `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  document.getElementById("scorecard-window").textContent = `${shown(doc.from)} → ${shown(doc.to)}`;
  remember(doc.rows);
  document.getElementById("totals").replaceChildren(...totalTiles(doc.rows));
  document.getElementById("countries").replaceChildren(...renderScorecard(doc));
  say(doc.rows.length ? "" : "No messages submitted in this window yet: register some (POST /messages) and send their reports.");
}

let dueAt = Infinity;

/** Read the scorecard within ``delay`` ms (a read already due sooner stays), then every REFRESH_MS. */
function refreshSoon(delay) {
  if (Date.now() + delay >= dueAt) return;
  clearTimeout(refreshTimer);
  dueAt = Date.now() + delay;
  refreshTimer = setTimeout(() => {
    dueAt = Infinity;
    refresh().finally(() => refreshSoon(REFRESH_MS));
  }, delay);
}

filters.addEventListener("change", () => refreshSoon(0));
document.getElementById("refresh").addEventListener("click", () => refreshSoon(0));
startFeed({
  table: document.getElementById("feed"),
  empty: document.getElementById("feed-empty"),
  state: document.getElementById("live-state"),
  onEntry: () => refreshSoon(AFTER_REPORT_MS),
});
refreshSoon(0);
