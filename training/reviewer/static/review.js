// newstag review page. Article text is untrusted (scraped pages): it only ever goes in through textContent and
// text nodes, never innerHTML; the server's Content-Security-Policy allows no inline script besides.
"use strict";

const TOKEN = document.querySelector('meta[name="review-token"]').content;
const CLIENT = Math.random().toString(36).slice(2) + Date.now().toString(36);
const STANCE_KEYS = "qwertyuiop";
const $ = (id) => document.getElementById(id);

let labels = null;     // {topics, stances, default_stance}
let view = null;       // the article shown
let chosen = new Set();
let stance = null;
let replacing = false; // the article already had a decision: accepting replaces it
let busy = false;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

function notice(text) { $("notice").textContent = text || ""; }

async function api(path, body) {
  const opts = body === undefined ? {} : {
    method: "POST", body: JSON.stringify(body),
    headers: {"content-type": "application/json", "x-review-token": TOKEN},
  };
  const r = await fetch(path, opts);
  let data = {};
  try { data = await r.json(); } catch (e) { data = {error: "the server sent no JSON"}; }
  return {status: r.status, data};
}

function pct(x) { return Math.round(100 * x) + "%"; }

function showProgress(p) {
  if (!p) return;
  $("counter").textContent = `${p.reviewed} reviewed, ${p.remaining} of ${p.pool} left`;
  const parts = [];
  for (const [who, name] of [["rule", "rules"], ["model", "model"]]) {
    const a = p.agreement[who];
    if (a) parts.push(`${name} agreed: topics ${pct(a.topics)}, stance ${pct(a.stance)}`);
  }
  $("agreement").textContent = parts.join(" · ");
}

function modeQuery() {
  const v = $("mode").value;
  if (v.startsWith("topic:")) return "mode=topic&topic=" + encodeURIComponent(v.slice(6));
  return "mode=" + encodeURIComponent(v);
}

async function next() {
  const {status, data} = await api(`/api/next?${modeQuery()}&client=${CLIENT}`);
  if (status !== 200) { notice(data.error); return; }
  showProgress(data.progress);
  show(data.article);
}

async function open(id) {
  const {status, data} = await api("/api/article/" + encodeURIComponent(id));
  if (status !== 200) { notice(data.error); return false; }
  showProgress(data.progress);
  show(data.article);
  return true;
}

function show(article) {
  view = article;
  $("text").replaceChildren();
  $("topics").replaceChildren();
  $("stances").replaceChildren();
  if (!article) {
    $("title").textContent = "Nothing left to review in this queue";
    $("meta").textContent = "Switch the queue, or feed the decisions to the next build (the commands beside).";
    return;
  }
  const start = article.decision || article.suggested;
  chosen = new Set(start.topics);
  stance = start.stance;
  replacing = Boolean(article.decision);
  $("title").textContent = article.title || "(no title)";
  const meta = [article.source, article.published, article.id].filter(Boolean).join(" · ");
  $("meta").textContent = replacing ? meta + " · already decided: accepting replaces the decision" : meta;
  for (const para of article.paragraphs) {
    const p = el("p");
    para.forEach((s, k) => {
      if (k) p.appendChild(document.createTextNode(" "));
      if (!s.marks.length) { p.appendChild(document.createTextNode(s.text)); return; }
      const span = el("span", "mark " + [...new Set(s.marks.map((m) => m.by))].join(" "), s.text);
      span.title = s.marks.map((m) => m.by === "model" ? `${m.topic}: model evidence` : `${m.topic}: rule ${m.rule}`)
        .join("\n");
      span.appendChild(el("span", "tags", "[" + [...new Set(s.marks.map((m) => m.topic))].join(", ") + "]"));
      p.appendChild(span);
    });
    $("text").appendChild(p);
  }
  article.topics.forEach((t, k) => {
    const li = el("li");
    li.dataset.name = t.name;
    li.appendChild(el("span", "key", k < 9 ? String(k + 1) : ""));
    li.appendChild(el("span", "name", t.name));
    const why = [];
    if (t.score !== null) why.push(`model ${t.score.toFixed(2)} (threshold ${t.threshold.toFixed(2)})${t.model ? " gives it" : ""}`);
    why.push(`rules ${t.votes} of ${t.needed} votes${t.rules ? ", give it" : ""}${t.voters.length ? ": " + t.voters.join(", ") : ""}`);
    li.appendChild(el("span", "why", why.join("; ")));
    li.title = t.description;
    li.addEventListener("click", () => toggle(t.name));
    $("topics").appendChild(li);
  });
  const st = article.stance;
  st.names.forEach((name, k) => {
    const li = el("li");
    li.dataset.name = name;
    li.appendChild(el("span", "key", STANCE_KEYS[k] || ""));
    li.appendChild(el("span", "name", name));
    const why = [];
    if (st.probs) why.push(`model ${st.probs[name].toFixed(2)}`);
    why.push(`rules ${st.rule_votes[name]}${st.voters[name].length ? ": " + st.voters[name].join(", ") : ""}`);
    li.appendChild(el("span", "why", why.join("; ")));
    li.title = st.descriptions[name];
    li.addEventListener("click", () => { stance = name; paint(); });
    $("stances").appendChild(li);
  });
  paint();
  window.scrollTo(0, 0);
}

function paint() {
  for (const li of $("topics").children) li.classList.toggle("on", chosen.has(li.dataset.name));
  for (const li of $("stances").children) li.classList.toggle("on", li.dataset.name === stance);
}

function toggle(name) {
  if (chosen.has(name)) chosen.delete(name); else chosen.add(name);
  paint();
}

async function guarded(fn) {
  if (busy || !view) return;
  busy = true;
  try { await fn(); } finally { busy = false; }
}

function accept() {
  return guarded(async () => {
    const topics = labels.topics.map((t) => t.name).filter((t) => chosen.has(t));
    const {status, data} = await api("/api/decision", {id: view.id, topics, stance, replace: replacing, client: CLIENT});
    if (status === 200) { notice(""); showProgress(data.progress); await next(); return; }
    if (status === 409) { notice("That article was already decided in another tab; here is the next one."); await next(); return; }
    notice(data.error || `the server answered ${status}`);
  });
}

function skip() {
  return guarded(async () => {
    const {status, data} = await api("/api/skip", {id: view.id});
    if (status !== 200) { notice(data.error); return; }
    notice("");
    await next();
  });
}

function back() {
  return guarded(async () => {
    const {status, data} = await api("/api/history");
    if (status !== 200) { notice(data.error); return; }
    const ids = data.decisions.map((d) => d.id);
    const at = view ? ids.indexOf(view.id) : -1;
    const target = at >= 0 ? ids[at - 1] : ids[ids.length - 1];
    if (target === undefined) { notice("Nothing to go back to."); return; }
    notice("");
    await open(target);
  });
}

document.addEventListener("keydown", (ev) => {
  if (ev.target instanceof HTMLSelectElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (!view) return;
  const key = ev.key;
  if (/^[1-9]$/.test(key) && view.topics[Number(key) - 1]) { toggle(view.topics[Number(key) - 1].name); }
  else if (STANCE_KEYS.includes(key.toLowerCase()) && view.stance.names[STANCE_KEYS.indexOf(key.toLowerCase())]) {
    stance = view.stance.names[STANCE_KEYS.indexOf(key.toLowerCase())];
    paint();
  }
  else if (key === "Enter") accept();
  else if (key === " ") skip();
  else if (key === "Backspace") back();
  else return;
  ev.preventDefault();
});

async function init() {
  const {status, data} = await api("/api/state");
  if (status !== 200) { notice(data.error); return; }
  labels = data;
  for (const t of data.topics) {
    const o = el("option", null, "topic: " + t.name);
    o.value = "topic:" + t.name;
    $("mode").appendChild(o);
  }
  $("mode").addEventListener("change", () => { $("mode").blur(); next(); });
  for (const [id, fn] of [["accept", accept], ["skip", skip], ["back", back]]) {
    $(id).addEventListener("click", (ev) => { ev.currentTarget.blur(); fn(); });  // keys must not click it again
  }
  $("gold").textContent = data.gold;
  $("commands").textContent = data.next_commands.join("\n");
  showProgress(data.progress);
  const wanted = new URLSearchParams(location.search).get("id");
  if (!(wanted && await open(wanted))) await next();
}

init();
