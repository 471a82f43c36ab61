// agentkit playground: plain JavaScript, no build step, no third-party code.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { key: localStorage.getItem("agentkit-key") || "", thread: null, running: false };

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "authorization": "Bearer " + state.key, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) {
    let message = response.status + " " + response.statusText;
    try { message = (await response.json()).error.message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

function add(kind, text) {
  const div = document.createElement("div");
  div.className = "msg " + kind;
  div.textContent = text;
  $("messages").appendChild(div);
  div.scrollIntoView({ block: "end" });
  return div;
}

function toolCard(event) {
  const card = document.createElement("div");
  card.className = "tool-call";
  card.dataset.toolCallId = event.tool_call_id;
  const head = document.createElement("div");
  head.className = "tool-name";
  head.textContent = event.name + "(" + event.arguments + ")";
  card.appendChild(head);
  $("messages").appendChild(card);
  return card;
}

function findCard(id) {
  return Array.from(document.querySelectorAll(".tool-call")).find((c) => c.dataset.toolCallId === id);
}

async function connect() {
  state.key = $("api-key").value.trim();
  localStorage.setItem("agentkit-key", state.key);
  try {
    const assistants = await (await api("GET", "/v1/assistants?limit=100")).json();
    const select = $("assistant");
    select.replaceChildren();
    for (const a of assistants.data) {
      const option = document.createElement("option");
      option.value = a.id;
      option.textContent = a.name || a.id;
      select.appendChild(option);
    }
    $("new-thread").disabled = false;
    await loadThreads();
    setStatus("connected");
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function loadThreads() {
  const threads = await (await api("GET", "/v1/threads?limit=100")).json();
  const list = $("threads");
  list.replaceChildren();
  for (const t of threads.data) {
    const li = document.createElement("li");
    li.textContent = t.id;
    li.dataset.threadId = t.id;
    if (t.id === state.thread) li.className = "active";
    li.addEventListener("click", () => openThread(t.id));
    list.appendChild(li);
  }
}

async function openThread(id) {
  state.thread = id;
  $("input").disabled = $("send").disabled = false;
  for (const li of $("threads").children) li.className = li.dataset.threadId === id ? "active" : "";
  $("messages").replaceChildren();
  const messages = await (await api("GET", "/v1/threads/" + id + "/messages?order=asc&limit=100")).json();
  for (const m of messages.data) add(m.role, m.content.map((c) => c.text.value).join("\n"));
}

async function newThread() {
  try {
    const thread = await (await api("POST", "/v1/threads", {})).json();
    await loadThreads();
    await openThread(thread.id);
  } catch (error) {
    setStatus(error.message, true);
  }
}

// Server-sent events over fetch (EventSource cannot send the Authorization header).
async function* sse(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
      if (data) yield JSON.parse(data);
    }
  }
}

async function follow(response) {
  let bubble = null;
  for await (const event of sse(response)) {
    if (event.type === "run_created") {
      state.run = event.run.id;
    } else if (event.type === "text_delta") {
      if (!bubble) bubble = add("assistant", "");
      bubble.textContent += event.text;
      bubble.scrollIntoView({ block: "end" });
    } else if (event.type === "tool_call_started") {
      bubble = null;
      if (!findCard(event.tool_call_id)) toolCard(event);
    } else if (event.type === "tool_call_finished") {
      const card = findCard(event.tool_call_id) || toolCard(event);
      const result = document.createElement("div");
      result.className = "tool-result" + (event.is_error ? " failed" : "");
      result.textContent = "→ " + event.output;
      card.appendChild(result);
    } else if (event.type === "approval_required") {
      bubble = null;
      for (const call of event.pending_tool_calls) askDecision(event.run.id, call);
      setStatus("waiting for your decision");
    } else if (event.type === "final") {
      setStatus("done");
    } else if (event.type === "error") {
      add("error", event.message);
      setStatus("run " + (event.code || "failed"), true);
    }
  }
}

function askDecision(runId, call) {
  const card = findCard(call.tool_call_id) || toolCard(call);
  const box = document.createElement("div");
  box.className = "decision";
  for (const verdict of ["approve", "deny"]) {
    const button = document.createElement("button");
    button.className = verdict;
    button.textContent = verdict === "approve" ? "Approve" : "Deny";
    button.addEventListener("click", async () => {
      box.remove();
      try {
        const body = { tool_call_id: call.tool_call_id, arguments: call.arguments };
        const response = await api("POST", "/agentkit/runs/" + runId + "/" + verdict, body);
        if ((response.headers.get("content-type") || "").startsWith("text/event-stream")) {
          setStatus("running");
          await follow(response);
        } else {
          setStatus("waiting for the other decisions");
        }
      } catch (error) {
        setStatus(error.message, true);
      }
    });
    box.appendChild(button);
  }
  card.appendChild(box);
}

async function send(event) {
  event.preventDefault();
  const text = $("input").value.trim();
  if (!text || !state.thread || state.running) return;
  $("input").value = "";
  add("user", text);
  state.running = true;
  $("send").disabled = true;
  setStatus("running");
  try {
    const body = { assistant_id: $("assistant").value, input: text, stream: true };
    await follow(await api("POST", "/agentkit/threads/" + state.thread + "/runs", body));
  } catch (error) {
    add("error", error.message);
    setStatus(error.message, true);
  } finally {
    state.running = false;
    $("send").disabled = false;
  }
}

$("api-key").value = state.key;
$("connect").addEventListener("click", connect);
$("new-thread").addEventListener("click", newThread);
$("composer").addEventListener("submit", send);
$("input").addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); $("composer").requestSubmit(); }
});
if (state.key) connect();
