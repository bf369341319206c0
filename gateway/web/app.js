// RxLedger pharmacy page: scan, see green/amber/red, dispense or undo; batch mode for deliveries.
// The page is drawn from one state by one function, render(): every change (a scan starts, an
// answer or an error arrives, the key or the mode changes, a write starts or ends) updates the
// state and redraws all of it, so nothing that belongs to an earlier scan stays on screen.
"use strict";
const $ = (id) => document.getElementById(id);
const VERDICT_TEXT = { green: "GENUINE — OK to dispense", amber: "HOLD — do not dispense now", red: "DO NOT DISPENSE" };
const CUSTODY_TEXT = { incoming: "not yet received", outgoing: "shipped by you", elsewhere: "not in your custody" };
const WRITES = {
  dispense: { path: "/v1/dispense", doing: "Dispensing…", done: "Dispensed", failed: "Dispense failed" },
  undo: { path: "/v1/dispense/undo", doing: "Undoing…", done: "Dispense undone", failed: "Undo failed" },
};

const page = {
  scan: 0,             // number of the latest scan, key or mode change: older answers are dropped
  pending: false,      // the latest scan's verification is in flight
  result: null,        // the verification on screen, or null
  error: "",           // why the latest scan has no result
  writing: false,      // a dispense or undo is in flight
  message: "",         // outcome of the last write, about the pack on screen
  batchMode: false,
  batch: [],           // codes scanned in batch mode
  batchRun: 0,         // number of the latest change to the batch: older answers are dropped
  batchPending: false,
  batchAnswer: null,   // the answer for exactly the codes in `batch`, or null
  batchError: "",
};

/** Apply `changes` to the page state and redraw the page. */
function update(changes) { Object.assign(page, changes); render(); }
/** Forget the single scan on screen and drop any answer still on its way for it. */
function clearScan() { page.scan += 1; return { pending: false, result: null, error: "", message: "" }; }
/** Forget the batch verdict and drop any answer still on its way for it. */
function clearBatchAnswer() { page.batchRun += 1; return { batchPending: false, batchAnswer: null, batchError: "" }; }

function key() { return sessionStorage.getItem("rxledger-key") || ""; }
function headers(json) {
  const h = { Authorization: "Bearer " + key() };
  if (json) h["Content-Type"] = "application/json";
  return h;
}
async function api(method, path, body) {
  const response = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  try { data = await response.json(); } catch (e) { data = { detail: response.statusText }; }
  if (!response.ok) throw new Error((data && data.detail) || ("HTTP " + response.status));
  return data;
}
function verify(code, source) {
  const query = "code=" + encodeURIComponent(code) + (source ? "&source=" + source : "");
  return api("GET", "/v1/verify?" + query);
}

// ------------------------------------------------------------------ drawing

function render() {
  $("key-state").textContent = key() ? "key saved" : "enter the staff key";
  renderResult();
  renderBatch();
}

/** "GENUINE — OK to dispense (VERIFIED)", or what the status means for this caller's custody. */
function verdictText(r) {
  const text = r.verdict === "green" && !r.dispensable ? "GENUINE — saleable" : VERDICT_TEXT[r.verdict];
  return text + " (" + [r.status, CUSTODY_TEXT[r.custody]].filter(Boolean).join(", ") + ")";
}

function undoable(r) {
  const d = r.pack && r.pack.decommission;
  return Boolean(r.custody === "held" && d && d.reason === "DISPENSED" && d.undo_until && new Date(d.undo_until) > new Date());
}

function fact(dl, name, value) {
  if (value === null || value === undefined || value === "") return;
  const dt = document.createElement("dt"); dt.textContent = name;
  const dd = document.createElement("dd"); dd.textContent = value;
  dl.append(dt, dd);
}

function renderFacts(dl, r) {
  if (r.product) fact(dl, "Product", r.product.name + (r.product.strength ? " " + r.product.strength : ""));
  fact(dl, "GTIN", r.gtin); fact(dl, "Serial", r.serial); fact(dl, "Lot", r.lot); fact(dl, "Expiry", r.expiry);
  if (r.pack) {
    fact(dl, "Holder", r.pack.custodian_name || r.pack.custodian_gln || r.pack.custodian);
    const d = r.pack.decommission;
    if (d) { fact(dl, "Decommissioned", d.reason + " on " + d.at + " by " + (d.by_name || d.by_gln || d.by)); fact(dl, "Undo until", d.undo_until); }
  }
  fact(dl, "Checked", r.verified_at + " (" + r.source + ", block " + r.as_of_block + ")");
}

function renderResult() {
  const r = page.result;
  const box = $("result");
  box.className = "result " + (r ? r.verdict : page.error ? "red" : "none");
  box.dataset.status = r ? r.status : page.error ? "ERROR" : page.pending ? "PENDING" : "";
  $("verdict").textContent = r ? verdictText(r) : page.error ? "ERROR" : page.pending ? "Verifying…" : "Scan a pack to verify it.";
  const reasons = $("reasons"); reasons.replaceChildren();
  for (const text of r ? [...r.reasons, ...r.warnings.map((w) => "note: " + w)] : []) {
    const li = document.createElement("li"); li.textContent = text; reasons.append(li);
  }
  const dl = $("facts"); dl.replaceChildren();
  if (r) renderFacts(dl, r);
  for (const [id, shown] of [["dispense", r && r.dispensable], ["undo", r && undoable(r)]]) {
    const button = $(id);
    button.hidden = !shown;
    button.disabled = !shown || page.writing;
    button.dataset.code = shown ? r.code : "";
  }
  $("message").textContent = [page.message, page.error].filter(Boolean).join(" — ");
}

function renderBatch() {
  $("batch-mode").checked = page.batchMode;
  $("batch").hidden = !page.batchMode;
  $("batch-count").textContent = String(page.batch.length);
  const answer = page.batchAnswer;
  const body = $("batch-table").querySelector("tbody"); body.replaceChildren();
  page.batch.forEach((code, i) => {
    const r = answer ? answer.results[i] : null;
    const tr = document.createElement("tr"); if (r) tr.className = r.verdict;
    const status = r ? [r.status, CUSTODY_TEXT[r.custody]].filter(Boolean).join(", ") : page.batchPending ? "…" : "";
    for (const text of [String(i + 1), r && r.serial ? r.gtin + " / " + r.serial : code, status, r ? r.reasons[0] : ""]) {
      const td = document.createElement("td"); td.textContent = text; tr.append(td);
    }
    body.append(tr);
  });
  const summary = $("batch-summary");
  summary.className = answer ? answer.verdict : page.batchError ? "red" : "";
  summary.textContent = answer
    ? "Delivery verdict: " + answer.verdict.toUpperCase() + " — " + Object.entries(answer.summary).map(([k, v]) => v + " " + k).join(", ")
    : page.batchError || (page.batchPending ? "Verifying the delivery…" : "");
}

// ------------------------------------------------------------------ transitions

async function scanOne(code) {
  update({ ...clearScan(), pending: true });
  const mine = page.scan;
  try {
    const result = await verify(code);
    if (mine === page.scan) update({ pending: false, result });
  } catch (e) {
    if (mine === page.scan) update({ pending: false, error: e.message });
  }
}

function scanIntoBatch(code) {
  page.batch.push(code);
  update(clearBatchAnswer());
}

async function verifyBatch() {
  if (!page.batch.length) return;
  update({ ...clearBatchAnswer(), batchPending: true });
  const mine = page.batchRun;
  try {
    const answer = await api("POST", "/v1/verify", { codes: [...page.batch] });
    if (mine === page.batchRun) update({ batchPending: false, batchAnswer: answer });
  } catch (e) {
    if (mine === page.batchRun) update({ batchPending: false, batchError: e.message });
  }
}

/** Dispense or undo the pack on screen: the code the button was drawn for, once at a time. */
async function write(button, action) {
  const code = button.dataset.code;
  if (page.writing || !page.result || page.result.code !== code) return;
  const mine = page.scan;
  update({ writing: true, message: action.doing });
  let message;
  try {
    const done = await api("POST", action.path, { codes: [code] });
    message = action.done + " — transaction " + done.tx_hashes[0] + " in block " + done.block_number;
  } catch (e) { message = action.failed + ": " + e.message; }
  // The index waits for confirmations: after a write, show the chain's own answer.
  let answer;
  try { answer = { result: await verify(code, "chain"), error: "" }; } catch (e) { answer = { result: null, error: e.message }; }
  page.writing = false;
  if (mine === page.scan) update({ ...answer, message });
  else render();
  $("scan").focus();
}

// ------------------------------------------------------------------ events

$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("rxledger-key", $("staff-key").value.trim());
  $("staff-key").value = "";
  update({ ...clearScan(), ...clearBatchAnswer() });
  $("scan").focus();
});
$("scan-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = $("scan").value;
  $("scan").value = "";
  if (!code) return;
  if (page.batchMode) scanIntoBatch(code); else scanOne(code);
});
$("batch-mode").addEventListener("change", () => {
  update({ ...clearScan(), ...clearBatchAnswer(), batchMode: $("batch-mode").checked });
  $("scan").focus();
});
$("dispense").addEventListener("click", (e) => write(e.currentTarget, WRITES.dispense));
$("undo").addEventListener("click", (e) => write(e.currentTarget, WRITES.undo));
$("verify-batch").addEventListener("click", verifyBatch);
$("clear-batch").addEventListener("click", () => { page.batch = []; update(clearBatchAnswer()); });
render();
