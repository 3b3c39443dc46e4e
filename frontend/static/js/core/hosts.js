// core/hosts.js — a run whose workers are on other hosts (launcher torchrun): the reducer's part of its events, and its selectors.
//
// hosts_waiting: the run waits for `nnodes` hosts (the command to paste is fetched by the
// page that may control the run: it holds the join token, so it is never an event);
// hosts_joined: which host each node rank is and its ranks; join_refused: a process that
// knocked without the run's token, or too late. No DOM (views/hosts.js draws it).

/** The state fields of these events (part of core/reducer.js's initialState). */
export function initialHosts() {
  return { hosts: null }; // {nnodes, nprocPerNode, rendezvous, joined: [...] | null, refused: [...]}
}

const emptyHosts = () => ({ nnodes: null, nprocPerNode: null, rendezvous: null, joined: null, refused: [] });

export function applyHostsWaiting(state, base, event) {
  return {
    ...base,
    // No process runs yet: the run is starting until its hosts have joined (no pause, no
    // faults to aim at; Stop works).
    status: base.status === "running" ? "starting" : base.status,
    hosts: {
      ...(state.hosts || emptyHosts()),
      nnodes: Number.isInteger(event.nnodes) ? event.nnodes : null,
      nprocPerNode: Number.isInteger(event.nproc_per_node) ? event.nproc_per_node : null,
      rendezvous: typeof event.rendezvous === "string" ? event.rendezvous : null,
    },
  };
}

export function applyHostsJoined(state, base, event) {
  const joined = (Array.isArray(event.hosts) ? event.hosts : []).map((h) => ({
    node: h.node,
    host: String(h.host ?? "?"),
    address: h.address ?? null,
    ranks: Array.isArray(h.ranks) ? h.ranks.slice() : [],
  }));
  return {
    ...base,
    status: base.status === "starting" ? "running" : base.status,
    backend: event.backend ?? state.backend, // chosen once the hosts said what they have
    hosts: { ...(state.hosts || emptyHosts()), joined },
  };
}

export function applyJoinRefused(state, base, event) {
  const hosts = state.hosts || emptyHosts();
  const entry = { t: event.t, address: event.address ?? "?", host: event.host ?? null, reason: event.reason ?? "?" };
  return { ...base, hosts: { ...hosts, refused: [...hosts.refused, entry] } };
}

/** The workers grouped by host, by node rank: [{node, host, address, workers: [{rank, status}]}];
 *  [] until hosts_joined (and for a local run). */
export function hostGroups(state) {
  if (!state || !state.hosts) return [];
  const worker = (rank) => {
    const w = state.workers[rank];
    return { rank, status: w ? w.status : "starting" };
  };
  if (state.hosts.joined) {
    return state.hosts.joined.map((h) => ({ node: h.node, host: h.host, address: h.address, workers: h.ranks.map(worker) }));
  }
  return [];
}

/** How far the hosts are: {joined, expected} hosts (joined: 0 until hosts_joined). */
export function hostsProgress(state) {
  const hosts = state && state.hosts;
  if (!hosts) return null;
  return { joined: hosts.joined ? hosts.joined.length : 0, expected: hosts.nnodes ?? 0 };
}
