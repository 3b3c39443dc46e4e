"""Chunkservers joining and leaving a running GFS store (course chapter 7, 表7): the
master recomputes the placement (engine/strategies/gfs_placement.py) and really moves
chunks between the chunkserver processes.

- The members are the servers the placement uses. With option ``join_at`` the last
  chunkserver process is a spare: alive from the start, holding nothing, not a member.
- At the start of epoch ``join_at`` the spare joins; at the start of epoch ``leave_at``
  chunkserver 1 (the oldest member) is decommissioned (GFS §4.4: "the master … re-
  replicates chunks from a server being retired before it goes away"; its process lives
  on, holding nothing, outside the placement).
- A change recomputes every chunk's servers with the run's policy. Each replica the new
  placement has and the old has not is a real copy: a holder sends its bytes (after
  verifying its block checksums, engine/strategies/gfs_chunkserver.py ``send``), the new
  server stores them and tells the master their crc32, which must equal the one written
  with the chunk. Only then are the replicas the new placement drops deleted from their
  servers — a chunk never has fewer than r good copies during the move.
- Then a scrub: every member re-reads every chunk it holds, checks its block checksums,
  and reports each chunk's crc32; every chunk must have ``replicas`` verified copies.

Events: ``gfs_members`` (who is in), ``gfs_move`` (each copy), ``gfs_rebalance`` (what
the change cost: replicas copied, chunks touched, bytes), ``gfs_balance`` (replicas per
server, max / mean), ``gfs_scrub`` (the verification).

Reference: Karger et al., "Consistent Hashing and Random Trees", STOC 1997.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.strategies.gfs_placement import balance, chunks_touched, moves, place

if TYPE_CHECKING:
    from engine.strategies.gfs_master import GfsMaster

LEAVER = 1  # the chunkserver a decommission retires: the oldest member

EVENTS: dict[str, dict[str, str]] = {
    "gfs_members": {"reason": "str: start | join | leave", "members": "list: ranks",
                    "outside": "list: live chunkservers that hold nothing (spare, retired)",
                    "server": "int (join, leave)", "policy": "str", "vnodes": "int"},
    "gfs_move": {"chunk": "int", "src": "int", "dst": "int", "bytes": "int",
                 "verified": "bool: the stored copy's crc32 equals the written one",
                 "reason": "str: join | leave"},
    "gfs_rebalance": {"reason": "str: join | leave", "server": "int", "policy": "str",
                      "moved": "int: replicas copied", "planned": "int: replicas the new "
                      "placement adds", "chunks": "int: chunks whose servers changed",
                      "deleted": "int: replicas removed", "bytes": "int", "total": "int: "
                      "replicas in the store", "fraction": "float: moved / total"},
    "gfs_balance": {"reason": "str: written | join | leave", "policy": "str",
                    "counts": "list: [server, replicas held]", "max": "int",
                    "mean": "float", "ratio": "float: max / mean (1: even)"},
    "gfs_scrub": {"reason": "str: join | leave", "verified": "int: replicas whose "
                  "checksums and crc32 are good", "bad": "list: [chunk, server]",
                  "full": "bool: every chunk has r verified replicas",
                  "under": "list: chunks below r"},
}


class Membership:
    def __init__(self, master: GfsMaster) -> None:
        self.m = master
        opts = master.opts
        self.policy = opts.placement
        self.vnodes = getattr(opts, "vnodes", 32)
        self.join_at = getattr(opts, "join_at", 0)
        self.leave_at = getattr(opts, "leave_at", 0)
        self.spare = master.servers[-1] if self.join_at else None
        self.members = [s for s in master.servers if s != self.spare]
        self.retired: set[int] = set()

    def takes(self, s: int) -> bool:
        """Whether re-replication may put a copy on server s (a member)."""
        return s in self.members

    def initial(self) -> list[list[int]]:
        return self._place(self.members)

    def _place(self, servers: list[int]) -> list[list[int]]:
        return place(self.policy, len(self.m.chunks), servers, self.m.opts.replicas,
                     vnodes=self.vnodes, seed=self.m.config.seed)

    def written(self) -> None:
        """After the first write: who is in, and how even the placement is."""
        self._members("start")
        self._balance("written")

    def at_epoch(self) -> None:
        """At an epoch's start: a spare joins, or the oldest member leaves."""
        epoch = self.m.epoch
        if epoch == self.join_at and self.spare in self.m.live:
            self._change("join", self.spare, [*self.members, self.spare])
        if epoch == self.leave_at and LEAVER in self.members:
            self._change("leave", LEAVER, [s for s in self.members if s != LEAVER])

    # ---- a change of members

    def _change(self, reason: str, server: int, members: list[int]) -> None:
        m = self.m
        m._notice_deaths()
        live = [s for s in members if s in m.live]
        if len(live) < m.opts.replicas:
            return  # too few servers left for r copies: keep the placement as it is
        old = [list(h) for h in m.replicas]
        new = self._place(live)
        self.members = sorted(members)
        if reason == "leave":
            self.retired.add(server)
        self._members(reason, server=server)
        moved = nbytes = deleted = 0
        for c, target in enumerate(new):
            for dst in target:
                if dst in m.replicas[c]:
                    continue
                size = self._copy(c, dst, reason)
                if size is not None:
                    moved += 1
                    nbytes += size
            deleted += self._drop_extra(c, target)
        planned = len(moves(old, new))
        total = len(m.chunks) * m.opts.replicas
        self._emit("gfs_rebalance", reason=reason, server=server, policy=self.policy,
                   moved=moved, planned=planned, chunks=chunks_touched(old, new),
                   deleted=deleted, bytes=nbytes, total=total,
                   fraction=round(moved / total, 6) if total else 0.0)
        m._map("rebalanced")
        self._balance(reason)
        self.scrub(reason)

    def _copy(self, c: int, dst: int, reason: str) -> int | None:
        """One replica of chunk c to dst, from a live holder (a retiring one first: its
        copies are the ones going away); its bytes when the copy's crc32 checks out."""
        m = self.m
        holders = sorted((s for s in m.replicas[c] if s in m.live),
                         key=lambda s: (s not in self.retired, s))
        for src in holders:
            reply = m._exchange([(dst, {"do": "receive", "chunk": c, "from": src, "next": []}),
                                 (src, {"do": "send", "chunk": c, "to": dst})], [src, dst])
            if reply is not None and "corrupt" in reply:
                m._drop_replica(c, src)  # its checksums failed: never copied, deleted
            for s in (reply or {}).get("lost", []):
                m._dead(s, "unreachable")
            if reply is None or "stored" not in reply:
                continue  # a dead or corrupt source: try the next holder
            verified = reply.get("crc") == m.crc[c]
            self._emit("gfs_move", chunk=c, src=src, dst=dst, bytes=reply["bytes"],
                       verified=verified, reason=reason)
            if not verified:
                m._tell(dst, {"do": "delete", "chunk": c})
                continue
            m.replicas[c].append(dst)
            return int(reply["bytes"])
        return None

    def _drop_extra(self, c: int, target: list[int]) -> int:
        """Delete the replicas the new placement no longer has — only once every target
        server holds a verified copy — and put the holders in the target's order."""
        m = self.m
        holders = m.replicas[c]
        if not all(s in holders for s in target if s in m.live):
            return 0
        extra = [s for s in holders if s not in target]
        for s in extra:
            holders.remove(s)
            m.copies.discard((c, s))
            m._tell(s, {"do": "delete", "chunk": c})
        holders.sort(key=lambda s: target.index(s) if s in target else len(target))
        return len(extra)

    # ---- the scrub

    def scrub(self, reason: str) -> dict[str, Any]:
        """Every member re-reads all it holds: each replica's checksums and crc32."""
        m = self.m
        good: dict[int, int] = {c: 0 for c in range(len(m.chunks))}
        bad: list[list[int]] = []
        verified = 0
        for s in sorted(m.live):
            reply = m._exchange([(s, {"do": "scrub"})], [s])
            if reply is None:
                continue
            sums = {int(c): crc for c, crc in reply.get("crcs", [])}
            for c, holders in enumerate(m.replicas):
                if s not in holders:
                    continue
                if sums.get(c) == m.crc[c]:
                    good[c] += 1
                    verified += 1
                else:
                    bad.append([c, s])
        under = [c for c, n in good.items() if n < m.opts.replicas]
        out = {"reason": reason, "verified": verified, "bad": bad, "full": not under,
               "under": under}
        self._emit("gfs_scrub", **out)
        return out

    # ---- events

    def _members(self, reason: str, **fields: Any) -> None:
        outside = sorted(s for s in self.m.live if s not in self.members)
        self._emit("gfs_members", reason=reason, members=sorted(self.members),
                   outside=outside, policy=self.policy, vnodes=self.vnodes, **fields)

    def _balance(self, reason: str) -> None:
        b = balance(self.m.replicas, [s for s in self.members if s in self.m.live])
        self._emit("gfs_balance", reason=reason, policy=self.policy, **b)

    def _emit(self, type_: str, **fields: Any) -> None:
        self.m._emit(type_, **fields)
