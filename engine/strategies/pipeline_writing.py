"""What the model writes, when the model is cut into pipeline stages (pipeline.py,
pipeline_torch.py and three_d.py call it as ``Pipeline._write``).

Each new character is one forward pass through every stage: the first stage reads the
window of characters, each stage hands its activation to the next, and the last stage
picks the character and tells every stage (``share_token``), so that all of them extend
the same text. Not training traffic: sent outside ``comms``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist

from engine.sampling import PROMPT_CHARS, SAMPLE_CHARS, sample_fields


@torch.no_grad()
def write_through_stages(p: Any, step: int) -> None:
    """``p``: a pipeline stage (``Pipeline``): its model ``chunks`` (one, or v when
    interleaved), whether it is the ``first`` / ``last``, its ``prev`` / ``next`` ranks,
    ``context`` and ``d_model``."""
    ctx = p.ctx
    data = ctx.data
    prompt = data.text[:PROMPT_CHARS.get(data.name, 10)]
    ids = data.encode(prompt)
    for _ in range(SAMPLE_CHARS.get(data.name, 60)):
        window = ids[-p.context:].view(1, -1)
        token = torch.zeros(1, dtype=torch.long)
        for c, chunk in enumerate(p.chunks):  # one chunk, but v when interleaved
            if p.first and c == 0:
                act = window
            else:  # from the previous stage (interleaved: the last, for a later chunk)
                act = torch.empty(1, window.shape[1], p.d_model)
                dist.recv(act, p.prev)
            out = chunk(act)
            if p.last and c == len(p.chunks) - 1:
                token[0] = out[0, -1].argmax()
            else:
                dist.send(out.contiguous(), p.next)
        p.share_token(token)
        ids = torch.cat([ids, token])
    if p.last and p.speaks_for_run:
        ctx.emit("sample", rank=ctx.topo.me, step=step,
                 **sample_fields(prompt, ids[len(prompt):], data))
