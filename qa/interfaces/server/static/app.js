// The web page of `qa serve`: plain JS, no build step, nothing fetched from elsewhere.
// The view lives in the URL fragment, so Back and reload work:
//   #q=QUESTION&k=5&mode=hybrid                     the hits for a question
//   #doc=PATH&p=PASSAGE_ID&a=START-END&q=…           a document, scrolled to a passage
//   …&c=NAME                                         in another collection than the server's default
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "qa-token";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.Authorization = "Bearer " + token;
  let response;
  try {
    response = await fetch(path, Object.assign({}, options, { headers }));
  } catch (err) {
    throw new ApiError(0, "the server cannot be reached (is `qa serve` still running?)");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    /* not JSON: reported below */
  }
  if (response.status === 401) $("token-form").hidden = false;
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || response.statusText);
  return data;
}

function viewState() {
  return new URLSearchParams(location.hash.slice(1));
}

function go(params) {
  location.hash = new URLSearchParams(params).toString();
}

// ---- citations -------------------------------------------------------------

function lines(start, end) {
  return start === end ? `L${start}` : `L${start}–${end}`;
}

function citationText(p) {
  const parts = [p.doc_path];
  if (p.page !== null && p.page !== undefined) parts.push(`p. ${p.page}`);
  parts.push(`¶${p.paragraph}`, lines(p.line_start, p.line_end));
  return parts.join(" · ");
}

function documentLink(p, answer) {
  const params = { doc: p.doc_path, p: p.passage_id };
  if (answer) params.a = `${answer.char_start}-${answer.char_end}`;
  const q = viewState().get("q");
  if (q) Object.assign(params, { q, k: $("top-k").value, mode: $("mode").value });
  if (collection()) params.c = collection();
  return "#" + new URLSearchParams(params).toString();
}

// The collection the view is in: "" for the server's default.
function collection() {
  return viewState().get("c") || "";
}

function inCollection(path) {
  return collection() ? `${path}?collection=${encodeURIComponent(collection())}` : path;
}

// ---- the hits ----------------------------------------------------------------

function setStatus(kind, text) {
  const status = $("status");
  status.className = kind;
  status.textContent = text;
  document.body.setAttribute("aria-busy", kind === "loading" ? "true" : "false");
}

function passageText(hit, answered) {
  const text = el("p", { class: "text", lang: "zh" });
  if (!hit.answer || !answered) {
    text.append(hit.text);
    return text;
  }
  const start = hit.answer.char_start - hit.char_start;
  const end = hit.answer.char_end - hit.char_start;
  text.append(hit.text.slice(0, start), el("mark", { class: "answer" }, hit.text.slice(start, end)), hit.text.slice(end));
  return text;
}

function hitCard(hit, answered) {
  const heading = hit.section && hit.section !== hit.title ? `${hit.title} › ${hit.section}` : hit.title;
  const confidence = hit.confidence == null ? "" : ` · confidence ${hit.confidence.toFixed(2)}`;
  const card = el(
    "article",
    { class: answered ? "hit" : "hit unanswered" },
    el(
      "div",
      { class: "cite" },
      el("span", { class: "rank" }, `${hit.rank}`),
      el("a", { class: "citation", href: documentLink(hit, hit.answer), title: `chars ${hit.char_start}–${hit.char_end}` }, citationText(hit)),
      el("span", { class: "score", title: "score · the probability that this passage answers" }, hit.score.toFixed(3) + confidence),
      hit.ocr ? el("span", { class: "score", title: "this text was read from an image of the page, not extracted" }, " · recognised by OCR") : null,
    ),
    heading ? el("div", { class: "heading" }, heading) : null,
    passageText(hit, answered),
  );
  if (hit.also_in && hit.also_in.length) {
    const also = el("div", { class: "also-in" }, "also in ");
    hit.also_in.forEach((source, i) => {
      if (i) also.append(", ");
      also.append(el("a", { href: documentLink(source, null) }, citationText(source)));
    });
    card.append(also);
  }
  return card;
}

let asked = 0; // answers to an older question are dropped when a newer one was asked

async function showHits(question, topK, mode) {
  const mine = ++asked;
  $("document").hidden = true;
  $("results").hidden = false;
  $("question").value = question;
  $("top-k").value = topK;
  $("mode").value = mode;
  $("results").replaceChildren();
  setStatus("loading", "Searching…");
  $("ask-button").disabled = true;
  try {
    const data = await api("/api/ask", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ question, top_k: Number(topK), mode }, collection() ? { collection: collection() } : {})),
    });
    if (mine !== asked) return;
    if (!data.hits.length) {
      setStatus("empty", "No passage matches that question. Try other words, or the “words” or “meaning” mode.");
      return;
    }
    // Below the confidence threshold nothing claims to answer: say so, and show the nearest passages dimmed.
    const answered = data.answered !== false;
    if (answered) setStatus("done", `${data.hits.length} passage${data.hits.length === 1 ? "" : "s"}`);
    else setStatus("unanswered", "No passage seems to answer this question. The nearest ones:");
    $("results").replaceChildren(...data.hits.map((hit) => hitCard(hit, answered)));
  } catch (err) {
    if (mine === asked) showError(err);
  } finally {
    if (mine === asked) $("ask-button").disabled = false;
  }
}

function showError(err) {
  const advice = {
    0: "",
    401: " Enter the token below.",
    503: " Build one with `qa index`; this page picks it up without a restart.",
    504: " Try a shorter question, or try again when the server is less busy.",
  };
  setStatus("error", `Error: ${err.message}.${advice[err.status] || ""}`);
}

// ---- a document --------------------------------------------------------------

async function showDocument(docPath, passageId, answer) {
  $("results").hidden = true;
  $("document").hidden = false;
  const back = viewState();
  ["doc", "p", "a"].forEach((key) => back.delete(key));
  $("back").href = "#" + back.toString();
  $("document-title").textContent = docPath;
  $("document-path").textContent = "";
  $("document-text").replaceChildren();
  setStatus("loading", "Opening the document…");
  let data;
  try {
    data = await api(inCollection("/api/documents/" + docPath.split("/").map(encodeURIComponent).join("/")));
  } catch (err) {
    showError(err);
    return;
  }
  setStatus("done", "");
  $("document-title").textContent = data.title || data.doc_path;
  $("document-path").textContent = data.doc_path;
  const [answerStart, answerEnd] = answer ? answer.split("-").map(Number) : [-1, -1];
  const body = [];
  let cursor = 0;
  let current = null;
  for (const p of data.passages) {
    const start = Math.max(p.char_start, cursor);
    if (start >= p.char_end) continue; // overlaps a passage already shown
    if (start > cursor) body.push(data.text.slice(cursor, start));
    const span = el("span", { class: "passage", id: "passage-" + p.passage_id, title: citationText(p) });
    if (p.passage_id === passageId) {
      span.classList.add("current");
      current = span;
      if (answerStart >= start && answerEnd <= p.char_end && answerStart < answerEnd) {
        span.append(data.text.slice(start, answerStart), el("mark", { class: "answer" }, data.text.slice(answerStart, answerEnd)), data.text.slice(answerEnd, p.char_end));
      }
    }
    if (!span.childNodes.length) span.append(data.text.slice(start, p.char_end));
    body.push(span);
    cursor = p.char_end;
  }
  body.push(data.text.slice(cursor));
  $("document-text").replaceChildren(...body);
  if (current) {
    $("document-path").textContent = current.title;
    current.scrollIntoView({ block: "center" });
  } else if (passageId) {
    setStatus("error", "That passage is no longer in this document (the index was rebuilt); showing the whole document.");
  }
}

// ---- wiring --------------------------------------------------------------------

function render() {
  const state = viewState();
  if (state.get("doc")) showDocument(state.get("doc"), state.get("p"), state.get("a"));
  else if (state.get("q")) showHits(state.get("q"), state.get("k") || "5", state.get("mode") || "hybrid");
  else {
    $("document").hidden = true;
    $("results").hidden = false;
    $("results").replaceChildren();
    setStatus("", "");
  }
}

async function showCollections() {
  try {
    const listed = await api("/api/collections");
    if (listed.collections.length < 2) return;
    $("collection").replaceChildren(...listed.collections.map((c) => el("option", { value: c.name === listed.default ? "" : c.name }, c.name)));
    $("collection").value = collection();
    $("collection-picker").hidden = false;
  } catch (err) {
    // the picker stays hidden; asking the default collection still works
  }
}

let infoFor = null; // the collection the footer describes

async function showInfo() {
  infoFor = collection();
  $("collection").value = collection();
  try {
    const info = await api(inCollection("/api/info"));
    $("info").textContent = `${info.files} files · ${info.passages} passages · model ${info.model} · built ${info.built_at}`;
    if (info.reload_error) $("info").textContent += ` · the newest index could not be loaded: ${info.reload_error}`;
    // A dense-only collection (a Milvus server before 2.5) searches by meaning only.
    for (const option of $("mode").options) option.disabled = !info.modes.includes(option.value);
    if ($("mode").selectedOptions[0].disabled) $("mode").value = info.modes[0];
  } catch (err) {
    if (!viewState().toString()) showError(err); // say at once when there is nothing to search
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question) return;
    const params = { q: question, k: $("top-k").value, mode: $("mode").value };
    if ($("collection").value) params.c = $("collection").value;
    if (location.hash.slice(1) === new URLSearchParams(params).toString()) render();
    else go(params);
  });
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token").value);
    $("token-form").hidden = true;
    showCollections(); // refused without the token when the page loaded
    showInfo();
    render();
  });
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "SELECT", "TEXTAREA"].includes(document.activeElement.tagName);
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      $("question").focus();
      $("question").select();
    }
  });
  $("collection").addEventListener("change", () => {
    const params = { c: $("collection").value };
    const question = $("question").value.trim();
    if (question) Object.assign(params, { q: question, k: $("top-k").value, mode: $("mode").value });
    if (!params.c) delete params.c;
    go(params);
  });
  window.addEventListener("hashchange", () => {
    if (collection() !== infoFor) showInfo();
    render();
  });
  showCollections();
  showInfo();
  render();
  if (!location.hash) $("question").focus();
});
