"""One worker of a DistLab run on another host: what ``torchrun`` starts there.

The command the page (or ``distlab run``) prints for a torchrun run (engine/hosts.py)
ends with ``-m engine.join --server HOST:PORT --token TOKEN``. Each process torchrun starts
here, with its place in the environment (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``GROUP_RANK`` — the node rank):

1. connects to the run's supervisor and proves it knows the run's join token
   (engine/hostjoin.py). A wrong token ends here, with a message and exit code 3, before
   it learns anything of the run or touches its process group;
2. says who it is (rank, host, node rank, GPUs, its clock) and waits for its WorkerSpec —
   or for a refusal that says why (a second copy of a rank, a command of another run);
3. runs the very worker a local run runs (engine/worker.py ``worker_main``): it joins the
   process group in the run's store, trains, and sends its events up this one connection
   and reads its controls from it.

No orphans: a worker exits when its supervisor hangs up (end of file on the connection),
and when its torchrun agent goes away (a watcher sees the parent change) — then, first,
it tells the supervisor that the host is lost (cause ``host_lost``). ``DISTLAB_HOST_NAME``
names the host on the page (default: its host name).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import sys
import threading
import time
from multiprocessing.connection import Client, Connection
from typing import Any

from engine import causes, hostjoin

EXIT_REFUSED = 3
EXIT_HOST_LOST = 71
WATCH_S = 0.1


class _Link:
    """The connection as worker_main sees its two pipes: ``send`` from the event sender
    and the watcher (one at a time), ``recv`` for the control reader — where a fault's
    signal, aimed at this process from afar, is carried out."""

    def __init__(self, conn: Connection, node: int, host: str) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._node, self._host = node, host

    def send(self, batch: list[dict[str, Any]]) -> None:
        for message in batch:
            if message.get("type") == "worker_started":  # the host it is on, as named
                message.update(node=self._node, host=self._host)
        with self._lock:
            self._conn.send(batch)

    def recv(self) -> Any:
        while True:
            message = self._conn.recv()
            if isinstance(message, dict) and message.get("action") == "_signal":
                os.kill(os.getpid(), message["signal"])  # kill: SIGKILL, as for a local one
                continue
            return message

    def close(self) -> None:
        self._conn.close()


def _env_int(name: str) -> int:
    value = os.environ.get(name)
    if value is None or not value.lstrip("-").isdigit():
        sys.exit(f"distlab join: {name} is not set: start engine.join through torchrun "
                 "(the command the run prints)")
    return int(value)


def _watch(link: _Link, rank: int, host: str) -> None:
    """The agent's lifeline (instead of PR_SET_PDEATHSIG, which would kill us silently):
    when the torchrun agent dies we are re-parented, so say the host is lost and exit; a
    SIGTERM (the agent stopping its workers because a sibling failed) is reported as a
    consequence, not a cause."""
    agent = os.getppid()
    while True:
        received = signal.sigtimedwait([signal.SIGTERM], WATCH_S)
        if received is not None:
            _last_word(link, {"type": "_error", "rank": rank,
                              "cause": causes.make("signal", signal="SIGTERM")})
            os._exit(128 + signal.SIGTERM)
        if os.getppid() != agent:
            _last_word(link, {"type": "_host_lost", "rank": rank,
                              "cause": causes.make("host_lost", host=host)})
            os._exit(EXIT_HOST_LOST)


def _last_word(link: _Link, message: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the supervisor is gone too
        link.send([message])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.join", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", required=True, metavar="HOST:PORT",
                        help="the run's join address (from the printed command)")
    parser.add_argument("--token", required=True, help="the run's join token")
    args = parser.parse_args(argv)
    # SIGTERM is taken by the watcher thread (sigtimedwait): block it here, before any
    # other thread exists, so that every thread inherits the mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    rank, world_size = _env_int("RANK"), _env_int("WORLD_SIZE")
    local_rank, node = _env_int("LOCAL_RANK"), _env_int("GROUP_RANK")
    host = os.environ.get("DISTLAB_HOST_NAME") or socket.gethostname()
    address, _, port = args.server.rpartition(":")
    try:
        conn = Client((address, int(port)))
        hostjoin.prove_to_server(conn, args.token)
    except hostjoin.JoinRefused as exc:
        print(f"distlab join: refused: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except (OSError, EOFError, ValueError) as exc:
        print(f"distlab join: cannot reach the run's server at {args.server}: {exc}",
              file=sys.stderr)
        return EXIT_REFUSED
    import torch  # after the mask (torch may start threads)

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    conn.send({"rank": rank, "world_size": world_size, "local_rank": local_rank,
               "node": node, "host": host, "pid": os.getpid(), "gpus": gpus,
               "clock": time.monotonic()})
    try:
        answer = conn.recv()
    except (EOFError, OSError):
        print("distlab join: the server hung up before the run started", file=sys.stderr)
        return EXIT_REFUSED
    if "refused" in answer:
        print(f"distlab join: refused: {answer['refused']}", file=sys.stderr)
        return EXIT_REFUSED
    from engine.worker import worker_main

    link = _Link(conn, node, host)
    threading.Thread(target=_watch, args=(link, rank, host), daemon=True,
                     name="agent-watch").start()
    worker_main(answer["spec"], link, link, lifeline=lambda: None)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
