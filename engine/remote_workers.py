"""A run whose workers are on other hosts, started there by ``torchrun`` (launcher torchrun).

The supervisor does not start these processes; it waits for them (``HostLobby``):

1. it serves the run's TCPStore, which the hosts' torchrun agents use as their c10d
   rendezvous and the workers as their process group's store, and a join listener;
2. every worker torchrun starts (engine/join.py) connects to the listener, proves it knows
   the run's join token (engine/hostjoin.py) and says who it is: rank, host, node rank,
   GPUs and its clock. A wrong token, a wrong size or a rank already there is refused
   with a reason (``join_refused``), and the run goes on waiting, undisturbed;
3. once every rank is in, it picks the backend (nccl where every worker has a GPU of its
   own, else gloo), says which host each node rank is (``hosts_joined``) and sends each
   worker its WorkerSpec. From then on the run is watched like a local one.

A remote worker is seen through its one connection (``RemoteWorker``), which plays for
engine/processes.py the three parts a local worker's process and pipes play: events up,
control down, and the "process" (alive while connected; ``kill`` asks the worker to
SIGKILL itself, then hangs up — a worker whose supervisor hangs up exits at once).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import socket
import threading
import time
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from engine import causes, hostjoin, processes, spawning
from engine.events import make_event
from engine.hosts import HostCommand, public_host
from engine.processes import WorkerHandle

if TYPE_CHECKING:
    from engine.supervisor import RunSupervisor

HANDSHAKE_S = 10.0  # a peer that has not proved the token by then is hung up on
ACCEPT_POLL_S = 0.5
STORE_AFTERLIFE_S = 15.0  # the agents' exit barrier still meets in the store after the end


def _hang_up(conn: Connection) -> None:
    """Close a socket connection so that a thread blocked reading it wakes up (a plain
    close would leave it blocked on Linux): shut it down through a duplicate first."""
    with contextlib.suppress(OSError), socket.socket(fileno=os.dup(conn.fileno())) as dup:
        dup.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        conn.close()


class RemoteWorker:
    """One worker on another host, through its connection: its event pipe (``recv``),
    its control pipe (``send``) and its process (``is_alive``, ``kill``, ``join``,
    ``exitcode``) for engine/processes.py and engine/detection.py."""

    def __init__(self, conn: Connection, pid: int) -> None:
        self._conn = conn
        self.pid = pid
        self.exitcode: int | None = None  # known only where we caused it (a kill)
        self.end_cause: causes.Cause | None = None  # why it ended, where it said so
        self._send_lock = threading.Lock()
        self._gone = threading.Event()

    # its pipes
    def send(self, message: Any) -> None:
        with self._send_lock:
            self._conn.send(message)

    def recv(self) -> list[dict[str, Any]]:
        batch = self._conn.recv()
        kept = []
        for message in batch:
            if message.get("type") == "_host_lost":  # its agent died: it is exiting
                self.end_cause = message["cause"]
            else:
                kept.append(message)
        return kept

    def close(self) -> None:
        _hang_up(self._conn)
        self._gone.set()

    # its process
    def is_alive(self) -> bool:
        return not self._gone.is_set()

    def send_signal(self, sig: int) -> None:
        """Have the worker signal itself (a fault); ``OSError``: it is already gone."""
        self.send({"action": "_signal", "signal": int(sig)})
        if sig == signal.SIGKILL:
            self.exitcode = -signal.SIGKILL

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.send_signal(signal.SIGKILL)
        self.close()

    def join(self, timeout: float | None = None) -> None:
        self._gone.wait(timeout)


@dataclasses.dataclass(slots=True)
class Joiner:
    """A worker that has proved the token and waits for the others."""

    conn: Connection
    hello: dict[str, Any]
    address: str
    clock_offset: float  # our monotonic clock minus its own, at its hello


class HostLobby:
    """Where a torchrun run's workers join (see the module's docstring)."""

    def __init__(self, sup: RunSupervisor) -> None:
        self.sup = sup
        config = sup.config
        self.world_size = config.world_size
        self.nproc_per_node = config.world_size // config.nnodes
        self.store = processes.new_store(config.world_size, config.timeout_s)
        sup.store = self.store
        self._server = socket.create_server(("", 0))
        self._server.settimeout(ACCEPT_POLL_S)
        self.command = HostCommand(
            run_id=sup.run_id, nnodes=config.nnodes, nproc_per_node=self.nproc_per_node,
            host=public_host(), rendezvous_port=self.store.port,
            join_port=self._server.getsockname()[1], token=hostjoin.join_token(sup.run_id))
        self.joined: dict[int, Joiner] = {}
        self.complete = False
        self._closed = False
        self._cond = threading.Condition()
        sup.emit([make_event("hosts_waiting", t=sup.now(), nnodes=config.nnodes,
                             nproc_per_node=self.nproc_per_node,
                             rendezvous=self.command.rendezvous)])
        threading.Thread(target=self._accept, daemon=True,
                         name=f"run-{sup.run_id}-join").start()

    # ----------------------------------------------------------------- joining
    def _accept(self) -> None:
        while not self._closed:
            try:
                sock, address = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            sock.setblocking(True)
            threading.Thread(target=self._greet, args=(sock, f"{address[0]}:{address[1]}"),
                             daemon=True).start()

    def _greet(self, sock: socket.socket, address: str) -> None:
        conn = Connection(sock.detach())
        timer = threading.Timer(HANDSHAKE_S, _hang_up, (conn,))
        timer.start()
        try:
            hostjoin.check_joiner(conn, self.command.token)
            hello = conn.recv()  # pickle, now that the peer holds the run's token
        except hostjoin.JoinRefused as exc:
            self._refuse(conn, address, None, str(exc))
            return
        except (EOFError, OSError, ValueError):
            _hang_up(conn)  # went away, or never said anything sensible
            return
        finally:
            timer.cancel()
        reason = self._admit(conn, hello, address)
        if reason is not None:
            with contextlib.suppress(OSError):
                conn.send({"refused": reason})
            self._refuse(conn, address, hello.get("host") if isinstance(hello, dict)
                         else None, reason)

    def _admit(self, conn: Connection, hello: Any, address: str) -> str | None:
        """Take a worker in, or say why not."""
        fields = ("rank", "world_size", "local_rank", "node", "host", "pid", "gpus", "clock")
        if not isinstance(hello, dict) or any(k not in hello for k in fields):
            return "not a DistLab worker's hello (is engine/join.py the same version?)"
        with self._cond:
            if self.complete or self._closed or self.sup.stop_requested:
                return (f"the run already has all its {self.world_size} processes"
                        if self.complete else "the run has ended")
            if hello["world_size"] != self.world_size:
                return (f"this run has {self.world_size} processes ({self.sup.config.nnodes} "
                        f"hosts × {self.nproc_per_node}); this torchrun starts "
                        f"{hello['world_size']}: paste the run's own command")
            rank = hello["rank"]
            if not isinstance(rank, int) or not 0 <= rank < self.world_size:
                return f"rank {rank!r} does not exist in this run"
            if rank in self.joined:
                return (f"rank {rank} has already joined, from host "
                        f"{self.joined[rank].hello['host']}")
            self.joined[rank] = Joiner(conn, hello, address,
                                       time.monotonic() - float(hello["clock"]))
            self._cond.notify_all()
        return None

    def _refuse(self, conn: Connection, address: str, host: str | None, reason: str) -> None:
        _hang_up(conn)
        with self.sup.lock:  # the instructor sees who knocked, while the run lasts
            if not self.sup.finished:
                self.sup.emit([make_event("join_refused", t=self.sup.now(),
                                          address=address, host=host, reason=reason)])

    def _drop_departed(self) -> None:
        """A worker that left while waiting (its agent was stopped) frees its rank."""
        for rank, joiner in list(self.joined.items()):
            try:
                gone = joiner.conn.poll(0)  # it says nothing until told: data means EOF
            except OSError:
                gone = True
            if gone:
                _hang_up(joiner.conn)
                del self.joined[rank]

    # ----------------------------------------------------------------- starting
    def gather(self) -> bool:
        """Wait until every rank has joined, then start them; False if the run was stopped
        (or could not start) first. Runs on the supervisor's monitor thread."""
        with self._cond:
            while len(self.joined) < self.world_size and not self.sup.stop_requested:
                self._cond.wait(ACCEPT_POLL_S)
                self._drop_departed()
            if len(self.joined) < self.world_size:
                return False
            self.complete = True
        try:
            self._start_workers()
        except ValueError as exc:  # e.g. nccl asked for, and a host has no GPU for a worker
            for joiner in self.joined.values():
                with contextlib.suppress(OSError):
                    joiner.conn.send({"refused": str(exc)})
                _hang_up(joiner.conn)
            self.sup.outcome.error = causes.of_exception("start_failed", exc)
            return False
        return True

    def _start_workers(self) -> None:
        sup, joined = self.sup, [self.joined[r] for r in range(self.world_size)]
        gpus_for_all = all(j.hello["gpus"] > j.hello["local_rank"] for j in joined)
        if sup.config.backend == "nccl" and not gpus_for_all:
            raise ValueError("backend nccl needs one GPU per worker on every host")
        backend = "nccl" if sup.config.backend != "gloo" and gpus_for_all else "gloo"
        devices = [f"cuda:{j.hello['local_rank']}" if backend == "nccl" else "cpu"
                   for j in joined]
        with sup.lock:
            sup.backend, sup.devices = backend, devices
            nodes: dict[int, dict[str, Any]] = {}
            for rank, j in enumerate(joined):
                node = nodes.setdefault(j.hello["node"], {
                    "node": j.hello["node"], "host": j.hello["host"],
                    "address": j.address.rsplit(":", 1)[0], "ranks": []})
                node["ranks"].append(rank)
            sup.emit([make_event("hosts_joined", t=sup.now(), backend=backend,
                                 hosts=[nodes[n] for n in sorted(nodes)])])
            sup.workers = []
            for rank, j in enumerate(joined):
                spec = dataclasses.replace(
                    spawning.worker_spec(sup, rank, self.store.port),
                    store_host=self.command.host, checkpoint_dir=None,
                    # its clock: events' times are on the supervisor's
                    t0=sup.t0 - j.clock_offset)
                worker = RemoteWorker(j.conn, j.hello["pid"])
                sup.workers.append(WorkerHandle(
                    rank=rank, process=worker, events=worker, control=worker,  # type: ignore[arg-type]
                    device=devices[rank], pid=worker.pid, generation=sup.generation))
                worker.send({"spec": spec})
            for w in sup.workers:
                processes.start_reader(w, sup.inbox, f"run-{sup.run_id}-read{w.rank}")

    # ----------------------------------------------------------------- the end
    def close(self) -> None:
        """No more joins; those waiting are told. The store outlives the run a little:
        the agents meet there once more (torchrun's exit barrier) before they exit."""
        with self._cond:
            self._closed = True
            waiting = [] if self.complete else list(self.joined.values())
        for joiner in waiting:
            with contextlib.suppress(OSError):
                joiner.conn.send({"refused": "the run has ended"})
            _hang_up(joiner.conn)
        with contextlib.suppress(OSError):
            self._server.close()
        store, self.store = self.store, None
        timer = threading.Timer(STORE_AFTERLIFE_S, lambda: store)  # holds it till then
        timer.daemon = True
        timer.start()

