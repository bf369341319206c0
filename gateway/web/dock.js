// RxLedger receiving dock: start a session for an inbound shipment, scan its SSCCs and packs
// (a keyboard-wedge scanner ends each scan with Enter), see expected vs scanned level by level,
// receive the matched items, then close and report what is quarantined, missing or
// mis-aggregated. As on the pharmacy page, the page is drawn from one state by render(): every
// change redraws all of it, and an answer that belongs to an earlier state is dropped.
// The two writes send exactly the lists on screen; the gateway refuses them if the session
// shows something else by then.
"use strict";
const $ = (id) => document.getElementById(id);
const STATE_TEXT = { scanned: "scanned", inferred: "in a scanned unit", partial: "partly scanned", missing: "not scanned" };
const OUTCOME_TEXT = { matched: "matched", product_without_data: "QUARANTINED", held: "already yours", other_shipment: "other shipment" };

const page = {
  run: 0,            // number of the latest key, session or write change: older answers are dropped
  inbound: [],       // what senders have in transit to the operator
  session: null,     // the session on screen (the gateway's latest answer for it), or null
  openUnit: null,    // {clear, code}: the last SSCC scanned; the packs scanned next were found in it
  queue: Promise.resolve(),  // scans are sent one at a time, in the order scanned
  scanning: 0,       // scans waiting or in flight
  writing: false,    // a receive or close is in flight
  message: "",
  error: false,
};

function update(changes) { Object.assign(page, changes); render(); }
/** Forget the session on screen and drop every answer still on its way. */
function clearSession() { page.run += 1; return { session: null, openUnit: null, message: "", error: false }; }

function key() { return sessionStorage.getItem("rxledger-key") || ""; }
async function api(method, path, body) {
  const headers = { Authorization: "Bearer " + key() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await response.json(); } catch (e) { data = { detail: response.statusText }; }
  if (!response.ok) {
    const error = new Error((data && data.detail) || ("HTTP " + response.status));
    error.status = response.status;
    throw error;
  }
  return data;
}
const short = (id) => id ? id.slice(0, 10) + "…" : "";

// ------------------------------------------------------------------ drawing

function render() {
  $("key-state").textContent = key() ? "key saved" : "enter the staff key";
  renderInbound();
  const s = page.session;
  $("session").hidden = !s;
  $("inbound-section").hidden = Boolean(s && s.status === "open");
  if (!s) return;
  const open = s.status === "open";
  $("session-title").textContent = (open ? "Receiving from " : "Closed: from ") + (s.sender_name || s.sender)
    + (s.shipment ? " — shipment " + short(s.shipment) : "") + " (" + s.id + ")";
  $("scan").disabled = !open;
  $("open-unit").textContent = open && page.openUnit ? "Packs scanned now are recorded as found in " + page.openUnit.clear + " (Esc: none)" : "";
  const receive = $("receive");
  receive.hidden = !open;
  receive.disabled = !open || page.writing || page.scanning > 0 || s.receivable.length === 0;
  receive.textContent = "Receive matched (" + s.receivable.length + ")";
  const close = $("close-session");
  close.hidden = !open;
  close.disabled = !open || page.writing || page.scanning > 0;
  $("message").textContent = page.message;
  $("message").className = page.error ? "error" : "";
  renderExpected(s);
  renderReport(s);
  renderScans(s);
  renderActions(s);
}

function cells(tr, texts) {
  for (const text of texts) { const td = document.createElement("td"); td.textContent = text; tr.append(td); }
}

function renderInbound() {
  const body = $("inbound").querySelector("tbody"); body.replaceChildren();
  for (const entry of page.inbound) {
    for (const [tx, count] of Object.entries(entry.shipments)) {
      const tr = document.createElement("tr");
      cells(tr, [entry.sender_name || entry.sender, tx, String(count)]);
      const td = document.createElement("td");
      const button = document.createElement("button");
      button.textContent = "Receive this shipment";
      button.dataset.shipment = tx;
      button.dataset.sender = entry.sender;
      button.addEventListener("click", () => startSession(tx === "unknown" ? { sender: entry.sender } : { shipment: tx }));
      td.append(button); tr.append(td); body.append(tr);
    }
  }
}

function renderExpected(s) {
  const body = $("expected").querySelector("tbody"); body.replaceChildren();
  const add = (node, depth) => {
    const tr = document.createElement("tr");
    tr.className = node.state; tr.dataset.id = node.id; tr.dataset.state = node.state;
    const marks = [node.received ? "received" : "", node.receivable ? "receivable" : "", node.opened ? "opened" : ""].filter(Boolean);
    cells(tr, ["\u00a0\u00a0".repeat(depth) + node.kind, node.code || short(node.id), node.status,
      STATE_TEXT[node.state] + (marks.length ? " (" + marks.join(", ") + ")" : "")]);
    body.append(tr);
    for (const child of node.children) add(child, depth + 1);
  };
  for (const node of s.expected) add(node, 0);
}

function codeOf(s, id) {
  const scan = s.scans.find((x) => x.item_id === id);
  if (scan) return scan.clear;
  const find = (nodes) => { for (const n of nodes) { if (n.id === id) return n; const f = find(n.children); if (f) return f; } return null; };
  const node = find(s.expected);
  return (node && node.code) || short(id);
}

function list(id, items) {
  const ul = $(id); ul.replaceChildren();
  for (const text of items) { const li = document.createElement("li"); li.textContent = text; ul.append(li); }
}

function renderReport(s) {
  const holder = (id) => { const x = s.scans.find((scan) => scan.item_id === id); return x && x.last_holder ? " — holder " + (x.last_holder_name || x.last_holder) : " — never seen on chain"; };
  list("quarantined", s.report.quarantined.map((id) => codeOf(s, id) + holder(id)));
  list("missing", s.report.missing.map((id) => codeOf(s, id)));
  list("aggregation", s.report.aggregation.map((d) => codeOf(s, d.unit) + ": missing "
    + (d.missing.map((id) => codeOf(s, id)).join(", ") || "none") + "; extra " + (d.extra.map((id) => codeOf(s, id)).join(", ") || "none")));
}

function renderScans(s) {
  $("scan-count").textContent = String(s.scans.length);
  const body = $("scans").querySelector("tbody"); body.replaceChildren();
  for (const scan of s.scans) {
    const tr = document.createElement("tr"); tr.className = scan.outcome;
    cells(tr, [String(scan.n), scan.clear + (scan.within ? " in " + scan.within : ""), OUTCOME_TEXT[scan.outcome], scan.note]);
    body.append(tr);
  }
}

function renderActions(s) {
  list("actions", s.actions.map((a) => a.kind + " — " + (a.counterparty_name || a.counterparty)
    + (a.exception_id !== null ? " — exception #" + a.exception_id : "") + " — " + a.items.length + " item(s)"
    + (a.tx_hashes.length ? " — transaction " + a.tx_hashes[0] : "")));
}

// ------------------------------------------------------------------ transitions

async function loadInbound() {
  const mine = page.run;
  try {
    const inbound = await api("GET", "/v1/dock/inbound");
    if (mine === page.run) update({ inbound });
  } catch (e) {
    if (mine === page.run) update({ inbound: [], message: e.message, error: true });
  }
}

async function startSession(body) {
  update(clearSession());
  const mine = page.run;
  try {
    const session = await api("POST", "/v1/dock/sessions", body);
    if (mine === page.run) update({ session });
    $("scan").focus();
  } catch (e) {
    if (mine === page.run) update({ message: e.message, error: true });
  }
}

/** Queue one scan: sent after the scans before it, with the unit open when it is sent. */
function scan(code) {
  const mine = page.run;
  const id = page.session.id;
  page.scanning += 1; render();
  page.queue = page.queue.then(async () => {
    if (mine !== page.run) { page.scanning -= 1; return; }
    const body = { code };
    if (page.openUnit) body.within = page.openUnit.clear;
    try {
      const answer = await api("POST", "/v1/dock/sessions/" + id + "/scans", body);
      page.scanning -= 1;
      if (mine !== page.run) return;
      const openUnit = answer.scan.kind === "unit" ? { clear: answer.scan.clear } : page.openUnit;
      const note = answer.duplicate ? "Already scanned (#" + answer.scan.n + "): counted once" : "Scan #" + answer.scan.n + ": " + answer.scan.note;
      update({ session: answer.session, openUnit, message: note, error: false });
    } catch (e) {
      page.scanning -= 1;
      if (mine === page.run) update({ message: "Scan refused: " + e.message, error: true });
    }
  });
}

/** Receive or close with exactly what is on screen; then show the gateway's answer. */
async function write(path, body, done) {
  if (page.writing || !page.session) return;
  const id = page.session.id;
  page.run += 1;
  const mine = page.run;
  update({ writing: true, message: "Writing to the ledger…", error: false });
  let changes;
  try {
    const answer = await api("POST", "/v1/dock/sessions/" + id + path, body);
    changes = { session: answer.session, message: done(answer), error: false };
  } catch (e) {
    let session = page.session;
    if (e.status === 409) { try { session = await api("GET", "/v1/dock/sessions/" + id); } catch (ignored) { /* keep it */ } }
    changes = { session, message: (e.status === 409 ? "Not done, the session changed: check it and confirm again. " : "Not done: ") + e.message, error: true };
  }
  page.writing = false;
  if (mine === page.run) update(changes); else render();
  $("scan").focus();
}

function receiveMatched() {
  const items = [...page.session.receivable];
  write("/receive", { items }, (a) => (a.replayed ? "Already received: " : "Received ") + items.length + " item(s) — transaction " + a.actions[0].tx_hashes[0]);
}

function closeAndReport() {
  const r = page.session.report;
  const report = { missing: [...r.missing], quarantined: [...r.quarantined], aggregation: r.aggregation.map((d) => ({ unit: d.unit, missing: [...d.missing], extra: [...d.extra] })) };
  write("/close", report, (a) => "Session closed: " + a.actions.filter((x) => x.exception_id !== null).length + " exception(s) opened");
}

// ------------------------------------------------------------------ events

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("rxledger-key", $("staff-key").value.trim());
  $("staff-key").value = "";
  update({ ...clearSession(), inbound: [] });
  loadInbound();
});
$("scan-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = $("scan").value;
  $("scan").value = "";
  if (code && page.session && page.session.status === "open") scan(code);
});
$("scan").addEventListener("keydown", (e) => { if (e.key === "Escape") update({ openUnit: null }); });
$("refresh").addEventListener("click", loadInbound);
$("receive").addEventListener("click", receiveMatched);
$("close-session").addEventListener("click", closeAndReport);
render();
if (key()) loadInbound();
