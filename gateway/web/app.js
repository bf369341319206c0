// RxLedger pharmacy page: scan, see green/amber/red, dispense or undo; batch mode for deliveries.
"use strict";
const $ = (id) => document.getElementById(id);
const VERDICT_TEXT = { green: "GENUINE — OK to dispense", amber: "HOLD — do not dispense now", red: "DO NOT DISPENSE" };
let current = null;   // last single result
let batch = [];       // scans in batch mode

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

function showKeyState() { $("key-state").textContent = key() ? "key saved" : "enter the staff key"; }
$("key-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("rxledger-key", $("staff-key").value.trim());
  $("staff-key").value = "";
  showKeyState();
  $("scan").focus();
});

function fact(dl, name, value) {
  if (value === null || value === undefined || value === "") return;
  const dt = document.createElement("dt"); dt.textContent = name;
  const dd = document.createElement("dd"); dd.textContent = value;
  dl.append(dt, dd);
}

function render(result) {
  current = result;
  const box = $("result");
  box.className = "result " + result.verdict;
  box.dataset.status = result.status;
  $("verdict").textContent = VERDICT_TEXT[result.verdict] + " (" + result.status + ")";
  const reasons = $("reasons"); reasons.replaceChildren();
  for (const text of [...result.reasons, ...result.warnings.map((w) => "note: " + w)]) {
    const li = document.createElement("li"); li.textContent = text; reasons.append(li);
  }
  const dl = $("facts"); dl.replaceChildren();
  if (result.product) fact(dl, "Product", result.product.name + (result.product.strength ? " " + result.product.strength : ""));
  fact(dl, "GTIN", result.gtin); fact(dl, "Serial", result.serial); fact(dl, "Lot", result.lot); fact(dl, "Expiry", result.expiry);
  if (result.pack) {
    fact(dl, "Holder", result.pack.custodian_name || result.pack.custodian);
    const d = result.pack.decommission;
    if (d) { fact(dl, "Decommissioned", d.reason + " on " + d.at + " by " + (d.by_name || d.by_gln || d.by)); fact(dl, "Undo until", d.undo_until); }
  }
  fact(dl, "Checked", result.verified_at + " (" + result.source + ", block " + result.as_of_block + ")");
  const dec = result.pack && result.pack.decommission;
  $("dispense").hidden = result.status !== "VERIFIED";
  $("undo").hidden = !(dec && dec.reason === "DISPENSED" && dec.undo_until && new Date(dec.undo_until) > new Date());
  $("message").textContent = "";
}

async function verify(code, source) {
  const query = "code=" + encodeURIComponent(code) + (source ? "&source=" + source : "");
  return api("GET", "/v1/verify?" + query);
}

async function onScan(code) {
  if (!code) return;
  if ($("batch-mode").checked) { batch.push(code); drawBatch(); return; }
  try { render(await verify(code)); } catch (e) { showError(e); }
}

function showError(e) {
  $("result").className = "result red";
  $("verdict").textContent = "ERROR";
  $("reasons").replaceChildren();
  $("message").textContent = e.message;
}

$("scan-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const code = $("scan").value;
  $("scan").value = "";
  onScan(code);
});

async function write(path, label) {
  if (!current) return;
  const code = current.code;
  try {
    const done = await api("POST", path, { codes: [code] });
    // The index waits for confirmations: show the chain's own answer right after a write.
    render(await verify(code, "chain"));
    $("message").textContent = label + " — transaction " + done.tx_hashes[0] + " in block " + done.block_number;
  } catch (e) { $("message").textContent = label + " failed: " + e.message; }
  $("scan").focus();
}
$("dispense").addEventListener("click", () => write("/v1/dispense", "Dispensed"));
$("undo").addEventListener("click", () => write("/v1/dispense/undo", "Dispense undone"));

$("batch-mode").addEventListener("change", () => { $("batch").hidden = !$("batch-mode").checked; $("scan").focus(); });
function drawBatch(results) {
  $("batch-count").textContent = String(batch.length);
  const body = $("batch-table").querySelector("tbody"); body.replaceChildren();
  batch.forEach((code, i) => {
    const r = results ? results[i] : null;
    const tr = document.createElement("tr"); if (r) tr.className = r.verdict;
    for (const text of [String(i + 1), r && r.serial ? r.gtin + " / " + r.serial : code, r ? r.status : "…", r ? r.reasons[0] : ""]) {
      const td = document.createElement("td"); td.textContent = text; tr.append(td);
    }
    body.append(tr);
  });
}
$("verify-batch").addEventListener("click", async () => {
  if (!batch.length) return;
  try {
    const answer = await api("POST", "/v1/verify", { codes: batch });
    drawBatch(answer.results);
    $("batch-summary").textContent = "Delivery verdict: " + answer.verdict.toUpperCase() + " — " + Object.entries(answer.summary).map(([k, v]) => v + " " + k).join(", ");
    $("batch-summary").className = answer.verdict;
  } catch (e) { $("batch-summary").textContent = e.message; }
});
$("clear-batch").addEventListener("click", () => { batch = []; drawBatch(); $("batch-summary").textContent = ""; });
showKeyState();
