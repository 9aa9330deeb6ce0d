// Messages arriving live: the local stack's feed (/local/feed, server-sent events), newest first.
// The server ends each connection after a while; EventSource reconnects by itself and resumes
// after the last entry it got (Last-Event-ID), so nothing kept is missed or shown twice.

import { el } from "./scorecard.js";

const KEEP_ROWS = 200;
const QUIET_BEFORE_SAYING_SO_MS = 3000;

const FINAL_GOOD = new Set(["DELIVERED", "READ"]);
const FINAL_BAD = new Set(["FAILED", "REJECTED", "EXPIRED"]);

/** The badge's tone for a normalised status. */
export function tone(status) {
  if (FINAL_GOOD.has(status)) return "good";
  if (FINAL_BAD.has(status)) return "bad";
  if (status === "UNKNOWN") return "warn";
  if (status === "SENT") return "info";
  return "quiet";
}

function clock(iso) {
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? "" : when.toLocaleTimeString("en-GB", { hour12: false });
}

/** One table row for a feed entry. */
export function entryRow(entry) {
  const badge = el("span", { class: `badge ${tone(entry.status)}` }, entry.status || "?");
  const how = entry.kind === "registered" ? "registered" : `raw ${JSON.stringify(entry.raw_status ?? "")} · ${entry.source || ""}`;
  return el(
    "tr",
    { "data-entry": entry.id, "data-kind": entry.kind, "data-message-id": entry.message_id, "data-status": entry.status, class: "fresh" },
    el("td", { class: "time" }, clock(entry.at)),
    el("td", {}, badge),
    el("td", { class: "message" },
      el("span", { class: "id" }, entry.message_id),
      el("span", { class: "how" }, `${entry.provider}/${entry.account} · ${how}`)),
    el("td", { class: "to" }, entry.to || "", entry.country ? el("span", { class: "country-code" }, entry.country) : null),
  );
}

/** Show entries as they come; ``onEntry`` is told of each one. */
export function startFeed({ table, empty, state, onEntry, url = "/local/feed" }) {
  let quiet = null;
  const setState = (name, text) => {
    state.dataset.state = name;
    state.textContent = text;
  };
  const source = new EventSource(url);
  source.onopen = () => {
    clearTimeout(quiet);
    setState("live", "live");
  };
  source.onerror = () => {
    clearTimeout(quiet);
    quiet = setTimeout(() => setState("down", "reconnecting…"), QUIET_BEFORE_SAYING_SO_MS);
  };
  source.onmessage = (event) => {
    const entry = JSON.parse(event.data);
    table.prepend(entryRow(entry));
    while (table.rows.length > KEEP_ROWS) table.deleteRow(-1);
    empty.hidden = true;
    onEntry(entry);
  };
  return source;
}
