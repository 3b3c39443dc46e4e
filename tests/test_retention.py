"""The retention policy removes ended runs oldest first — by age, by count and by size per
student — and never a pinned run; pinning needs the instructor key; the run list says
when each run would go."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.main import create_app
from backend.retention import DAY, MB, Policy, plan
from backend.settings import Settings
from backend.store import Store
from tests.test_api import wait_for_status

KEY = "teach-me"
NOW = time.time()
CONFIG = {"strategy": "data_parallel", "workers": 2, "steps": 3, "batch_size": 8}


def _row(run_id: str, student: str | None, age_days: float, mb: float = 0.1,
         **flags: bool) -> dict:
    ended = NOW - age_days * DAY
    return {"id": run_id, "student": student, "created_at": ended - 10, "finished_at": ended,
            "bytes": int(mb * MB), "pinned": flags.get("pinned", False),
            "in_room": flags.get("in_room", False), "live": flags.get("live", False),
            "status": "running" if flags.get("live") else "finished"}


def _removed(policy: Policy, rows: list[dict]) -> set[str]:
    rows = sorted(rows, key=lambda r: r["created_at"], reverse=True)
    return {run_id for run_id, v in plan(policy, rows, NOW).items() if v["remove"]}


def test_by_age_oldest_go_but_never_a_pinned_run_or_a_students_newest() -> None:
    rows = [_row("new", "a", 1), _row("old", "a", 40), _row("older", "a", 50),
            _row("pinned", "a", 90, pinned=True), _row("room", "a", 90, in_room=True),
            _row("only", "b", 100)]
    assert _removed(Policy(days=30), rows) == {"old", "older"}
    verdict = plan(Policy(days=30), rows, NOW)
    assert verdict["new"]["expires_at"] == pytest.approx(NOW - DAY + 30 * DAY)
    assert verdict["pinned"]["kept"] == "pinned" and verdict["only"]["kept"] == "newest"


def test_by_count_each_student_keeps_their_newest_runs_pinned_ones_besides() -> None:
    rows = [_row(f"a{i}", "a", i) for i in range(5)] + [_row("b0", "b", 9)]
    rows.append(_row("a-pinned", "a", 10, pinned=True))
    assert _removed(Policy(runs=2), rows) == {"a2", "a3", "a4"}
    verdict = plan(Policy(runs=2), rows, NOW)
    assert [verdict[f"a{i}"]["runs_left"] for i in range(2)] == [2, 1]
    assert _removed(Policy(), rows) == set()  # unset: keep all
    live = [_row("a-live", "a", 0, live=True), *rows]
    assert _removed(Policy(runs=2), live) == {"a2", "a3", "a4"}  # a live run is not counted


def test_by_size_older_runs_beyond_a_students_megabytes_go() -> None:
    rows = [_row("a0", "a", 0, mb=3), _row("a1", "a", 1, mb=3), _row("a2", "a", 2, mb=3),
            _row("big-pinned", "a", 0.5, mb=50, pinned=True), _row("b0", "b", 1, mb=9)]
    assert _removed(Policy(mb=7), rows) == {"a2"}
    assert _removed(Policy(mb=2), rows) == {"a1", "a2"}  # the newest stays, even over
    assert plan(Policy(mb=7), rows, NOW)["a1"]["mb_left"] == pytest.approx(1.0, abs=0.01)


def _seed(data: Path, runs: list[tuple[str, str | None, float]]) -> None:
    """Ended runs as an earlier server left them: (id, student, age in days)."""
    store = Store(data)
    for run_id, student, age in runs:
        store.create_run(run_id, CONFIG, "running", student)
        store.append_events(run_id, [{"seq": 1, "type": "run_started", "run_id": run_id,
                                      "t": 0.0, "rank": None, "step": None}])
        store.update_run(run_id, status="finished", finished_at=NOW - age * DAY)
    store.flush()
    with store._connect() as db:  # created when they ended, as far as the list says
        for run_id, _, age in runs:
            db.execute("UPDATE runs SET created_at = ? WHERE id = ?",
                       (NOW - age * DAY - 1, run_id))
    store.close()


def _ids(client: TestClient) -> set[str]:
    return {r["id"] for r in client.get("/api/runs").json()}


def _run_to_the_end(client: TestClient, student: str) -> str:
    created = client.post("/api/runs", json=CONFIG, headers={"X-Student-Id": student})
    assert created.status_code == 201, created.text
    run_id = created.json()["id"]
    wait_for_status(client, run_id, {"finished"})
    manager = client.app.state.manager
    deadline = time.monotonic() + 60
    while run_id in manager.runs and time.monotonic() < deadline:  # packed, policy applied
        time.sleep(0.05)
    return run_id


def test_pin_needs_the_instructor_key_and_keeps_a_run_when_the_policy_applies(
        tmp_path: Path) -> None:
    data = tmp_path / "data"
    a, b, c, d = (f"00000000000{x}" for x in "abcd")
    _seed(data, [(a, "s-a", 4), (b, "s-a", 3), (c, "s-a", 2), (d, "s-a", 1),
                 ("0000000000e0", "s-e", 9)])
    settings = Settings(data_dir=data, instructor_key=KEY, keep_runs_per_student=2)
    with TestClient(create_app(settings)) as client:
        # applied at start: s-a's two oldest go; s-e's one run stays
        assert _ids(client) == {c, d, "0000000000e0"}
        listed = {r["id"]: r for r in client.get("/api/runs").json()}
        assert listed[c]["pinned"] is False
        assert listed[c]["retention"]["runs_left"] == 1
        assert listed[c]["retention"]["kept"] is None
        assert "newest 2 runs" in listed[c]["retention"]["policy"]
        assert listed[d]["retention"]["kept"] == "newest"

        url = f"/api/runs/{c}/pin"
        assert client.put(url).status_code == 403
        assert client.put(url, headers={"X-Instructor-Key": "wrong"}).status_code == 403
        assert client.put("/api/runs/0000000000ff/pin",
                          headers={"X-Instructor-Key": KEY}).status_code == 404
        pinned = client.put(url, headers={"X-Instructor-Key": KEY})
        assert pinned.status_code == 200 and pinned.json() == {"id": c, "pinned": True}
        entry = next(r for r in client.get("/api/runs").json() if r["id"] == c)
        assert entry["pinned"] is True and entry["retention"]["kept"] == "pinned"

        # s-a's runs end: the policy applies each time; the pinned one, now the oldest,
        # stays and does not count
        x = _run_to_the_end(client, "s-a")
        assert _ids(client) == {c, d, x, "0000000000e0"}
        y = _run_to_the_end(client, "s-a")
        assert _ids(client) == {c, x, y, "0000000000e0"}
        assert client.get(f"/api/runs/{d}").status_code == 404
        assert client.get(f"/api/runs/{c}/events").json()[0]["type"] == "run_started"

        assert client.delete(url).status_code == 403
        assert client.delete(url, headers={"X-Instructor-Key": KEY}).json()["pinned"] is False


def test_age_limit_at_start_and_an_unset_policy_keeps_everything(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _seed(data, [("00000000000a", None, 40), ("00000000000b", None, 20),
                 ("00000000000c", None, 1)])
    with TestClient(create_app(Settings(data_dir=data))) as client:
        assert len(_ids(client)) == 3
        entry = client.get("/api/runs").json()[0]
        assert entry["retention"]["kept"] == "all"
        assert entry["retention"]["policy"] == "runs are kept until someone deletes them"
    with TestClient(create_app(Settings(data_dir=data, keep_days=30))) as client:
        assert _ids(client) == {"00000000000b", "00000000000c"}
        assert client.get("/api/runs/00000000000a/events").status_code == 404
