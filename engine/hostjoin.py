"""A run's join token: what a process on another host must know to join the run.

The token is the HMAC-SHA256 of the run's id under a secret of the server (RFC 2104), so
the server checks a join without storing a token per run, and a token opens one run
only. The secret comes from ``DISTLAB_JOIN_SECRET`` (stable across restarts of the server,
and shared by its workers), else it is drawn once per server process: runs do not outlive
their server, so neither need their tokens.

The token never travels over the network: a joining worker proves it knows it by a
challenge–response (an HMAC of a random nonce, both ways: ``check_joiner`` and
``prove_to_server`` below) before it is told anything about the run, and long before it
joins the process group (engine/join.py, engine/remote_workers.py).

What it does not guard: the c10d rendezvous itself. torchrun's agents meet in the run's
TCPStore, which has no authentication (PyTorch's TCPStore has none); run the hosts on a
network you trust, as PyTorch's own documentation advises.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from typing import Any

_SECRET = os.environ.get("DISTLAB_JOIN_SECRET", "").encode() or secrets.token_bytes(32)


def join_token(run_id: str) -> str:
    """The token of ``run_id``: 32 hex digits (128 bits of the HMAC)."""
    return hmac.new(_SECRET, run_id.encode(), hashlib.sha256).hexdigest()[:32]


def token_matches(run_id: str, token: str) -> bool:
    """Whether ``token`` is ``run_id``'s (in constant time: no timing oracle)."""
    return hmac.compare_digest(join_token(run_id).encode(), token.encode())


# --------------------------------------------------------------- the handshake
# Mutual challenge–response (as multiprocessing.connection's, with SHA-256 and labels that
# keep one side's proof from being replayed as the other's). It runs on raw bytes, never
# pickle: nothing from an unauthenticated peer is unpickled.
NONCE_BYTES = 32
REFUSED = b"REFUSED"
WELCOME = b"WELCOME"


class JoinRefused(Exception):
    """The other side does not know the run's join token."""


def _proof(token: str, side: bytes, nonce: bytes) -> bytes:
    return hmac.new(token.encode(), b"distlab-join/" + side + nonce, hashlib.sha256).digest()


def check_joiner(conn: Any, token: str) -> None:
    """Server side: the worker proves it knows ``token``, then we prove it back.
    ``JoinRefused`` when it does not (it is told so before the connection closes)."""
    challenge = secrets.token_bytes(NONCE_BYTES)
    conn.send_bytes(challenge)
    answer = conn.recv_bytes(2 * NONCE_BYTES + 64)
    proof, theirs = answer[:32], answer[32:]
    if len(theirs) != NONCE_BYTES or not hmac.compare_digest(
            proof, _proof(token, b"worker", challenge)):
        conn.send_bytes(REFUSED)
        raise JoinRefused("wrong join token")
    conn.send_bytes(WELCOME + _proof(token, b"server", theirs))


def prove_to_server(conn: Any, token: str) -> None:
    """Worker side of ``check_joiner``."""
    challenge = conn.recv_bytes(NONCE_BYTES + 64)
    mine = secrets.token_bytes(NONCE_BYTES)
    conn.send_bytes(_proof(token, b"worker", challenge) + mine)
    reply = conn.recv_bytes(len(WELCOME) + 64)
    if reply == REFUSED:
        raise JoinRefused("the server refused the join token: it is not this run's "
                          "(paste the run's own command, token included)")
    if not hmac.compare_digest(reply, WELCOME + _proof(token, b"server", mine)):
        raise JoinRefused("the server did not prove it knows the join token: this is "
                          "not the run's server")
