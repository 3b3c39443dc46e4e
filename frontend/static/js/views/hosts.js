// views/hosts.js — the hosts panel of a torchrun run: the command to paste on each host (with a Copy button), the workers grouped by host, and the joins refused.
//
// The command holds the run's join token, so it is fetched (GET /api/runs/{id}/hosts) only
// by a page that may control the run; a viewer sees the hosts and their workers, and a
// line saying why the command is not shown. The texts are pure functions (tested in node);
// the panel redraws only when what it shows changed.

import { setHidden, setText } from "./dom.js";
import { t } from "../core/i18n.js";
import { hostGroups, hostsProgress } from "../core/hosts.js";

/** The panel's status line: waiting for hosts, or which backend they run. */
export function hostsStatusText(state, tr = t) {
  const progress = hostsProgress(state);
  if (!progress) return "";
  if (!state.hosts.joined) {
    if (state.finished) return tr("hosts.neverJoined", { n: progress.expected });
    return tr("hosts.waiting", { n: progress.expected, per: state.hosts.nprocPerNode ?? "?" });
  }
  return tr("hosts.joined", { n: progress.joined, backend: state.backend ?? "?" });
}

/** One host's line: "host-a (node 0, 10.0.0.5): rank 0 running, rank 1 running". */
export function hostLine(group, tr = t) {
  const ranks = group.workers.map((w) => tr("hosts.rank", { rank: w.rank, status: tr(`status.${w.status}`) })).join(", ");
  return tr("hosts.line", { host: group.host, node: group.node, address: group.address ?? "?", ranks });
}

/** A refused join: "refused 10.0.0.7:5123 (host-c): wrong join token". */
export function refusedLine(entry, tr = t) {
  const who = entry.host ? `${entry.address} (${entry.host})` : entry.address;
  return tr("hosts.refused", { who, reason: entry.reason });
}

export function createHostsPanel(el, { runId, mayControl, fetchCommand }) {
  el.innerHTML = `
    <div class="hosts-head"><span class="hosts-title"></span> <span class="hosts-status" data-testid="hosts-status"></span></div>
    <ul class="hosts-list" data-testid="hosts-list"></ul>
    <ul class="hosts-refused" data-testid="hosts-refused"></ul>
    <div class="hosts-command-row" data-testid="hosts-command-row" hidden>
      <code class="hosts-command" data-testid="hosts-command"></code>
      <button type="button" class="btn small hosts-copy" data-testid="hosts-copy"></button>
    </div>
    <p class="hosts-note" data-testid="hosts-note" hidden></p>`;
  const $ = (sel) => el.querySelector(sel);
  const code = $(".hosts-command");
  const copyBtn = $(".hosts-copy");
  let command = { runId: null, text: null, note: null }; // what the server said for which run
  let copiedUntil = 0;
  let shown = "";

  copyBtn.addEventListener("click", async () => {
    if (!command.text) return;
    try {
      await navigator.clipboard.writeText(command.text);
    } catch {
      // no clipboard permission (e.g. plain http off localhost): select it for Ctrl+C
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
    copiedUntil = Date.now() + 2000;
    shown = "";
    setText(copyBtn, t("hosts.copied"));
    setTimeout(() => {
      shown = "";
      setText(copyBtn, t("hosts.copy"));
    }, 2000);
  });

  async function load(id) {
    command = { runId: id, text: null, note: null };
    if (!mayControl(id)) {
      command.note = "hosts.noToken";
      return;
    }
    const res = await fetchCommand(id);
    if (command.runId !== id) return; // another run meanwhile
    if (res.ok) command.text = res.data.command;
    else command.note = res.status === 409 ? "hosts.ended" : "hosts.noToken";
    shown = "";
  }

  return {
    render(state) {
      const id = runId();
      const on = !!(state && state.hosts);
      setHidden(el, !on);
      if (!on) return;
      if (command.runId !== id && !state.finished) load(id);
      const live = !state.finished;
      const groups = hostGroups(state);
      const sig = JSON.stringify([t("hosts.title"), hostsStatusText(state), live, command, groups, state.hosts.refused.length]);
      if (sig === shown) return;
      shown = sig;
      setText($(".hosts-title"), t("hosts.title"));
      setText($(".hosts-status"), hostsStatusText(state));
      setHidden($(".hosts-command-row"), !(live && command.text));
      setText(code, command.text || "");
      if (Date.now() >= copiedUntil) setText(copyBtn, t("hosts.copy"));
      const note = live ? command.note : null;
      setHidden($(".hosts-note"), !note);
      setText($(".hosts-note"), note ? t(note) : "");
      const list = $(".hosts-list");
      list.replaceChildren(
        ...groups.map((g) => {
          const li = document.createElement("li");
          li.dataset.host = g.host;
          li.dataset.testid = "host-group";
          li.textContent = hostLine(g);
          return li;
        }),
      );
      $(".hosts-refused").replaceChildren(
        ...state.hosts.refused.map((r) => {
          const li = document.createElement("li");
          li.dataset.testid = "join-refused";
          li.textContent = refusedLine(r);
          return li;
        }),
      );
    },
  };
}
