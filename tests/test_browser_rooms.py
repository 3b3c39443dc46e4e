"""Follow the instructor: one instructor page and two student pages (separate browser
contexts, so separate sessionStorage and control tokens) against the real server.

The instructor opens a room with the server's instructor key and starts a paced run; the
students join with the room code and must follow the instructor's start, pause and step
within a second; their own control attempts are refused (403) and leave the run as it
was; a student's fork is a run of their own, with the same config, which they control.
A student's keys and the narration of a paused run say that only the instructor controls
it, without sending a request.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser_support import ARTIFACTS, INSTRUCTOR_KEY, STATUS, get_json, wait_status

pytestmark = pytest.mark.browser

APP_READY = "window.distlab !== undefined && window.Plotly !== undefined"
SCRUB = "[data-testid=scrubber]"


class Pages:
    def __init__(self, browser: Browser, server: str) -> None:
        self.browser = browser
        self.server = server
        self.contexts = []
        self.errors: list[str] = []

    def open(self, path: str = "/") -> Page:
        ctx = self.browser.new_context(viewport={"width": 1280, "height": 800})
        self.contexts.append(ctx)
        pg = ctx.new_page()
        pg.on("pageerror", lambda exc: self.errors.append(str(exc)))
        pg.goto(f"{self.server}{path}")
        pg.wait_for_function(APP_READY)
        return pg

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def pages(browser: Browser, server: str) -> Iterator[Pages]:
    p = Pages(browser, server)
    yield p
    p.close()
    assert p.errors == [], f"JavaScript errors on the pages: {p.errors}"


def post(url: str, body: dict, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read() or b"null")


def open_room(pg: Page) -> str:
    pg.click("[data-testid=room-menu]")
    pg.fill("[data-testid=room-key-input]", INSTRUCTOR_KEY)
    pg.click("[data-testid=room-open]")
    pg.wait_for_selector("[data-testid=room-banner][data-role=instructor] [data-testid=room-code]")
    code = pg.inner_text("[data-testid=room-code]").strip()
    assert re.fullmatch(r"[A-Z0-9]{6}", code), code
    return code


def start_paced_run(pg: Page, workers: int = 2, steps: int = 60, pace: int = 4) -> str:
    pg.select_option("[data-testid=strategy-select]", "data_parallel")
    pg.fill("[data-testid=workers-input]", str(workers))
    pg.fill("[data-testid=steps-input]", str(steps))
    pg.set_checked("[data-testid=full-speed]", False)
    pg.fill("[data-testid=pace-input]", str(pace))
    before = pg.evaluate("window.distlab.app.runId")
    pg.click("[data-testid=start-run]")
    pg.wait_for_function(
        "id => window.distlab.app.runId && window.distlab.app.runId !== id", arg=before
    )
    return pg.evaluate("window.distlab.app.runId")


def shown_step(pg: Page) -> int:
    return int(pg.get_attribute(SCRUB, "max") or 0) if not pg.is_disabled(SCRUB) else 0


def wait_steady(pg: Page, expr: str, quiet_ms: int = 1500, timeout: int = 30_000) -> None:
    """Wait until the JS expression `expr` has kept its value for quiet_ms: after a pause, the
    steps that were in flight have landed (there is no event that says the last one has;
    quiet_ms is several steps at the paces used here)."""
    pg.evaluate("window.__steady = null")
    pg.wait_for_function(
        f"""quiet => {{ const v = JSON.stringify({expr}), now = performance.now();
              const s = window.__steady;
              if (!s || s.v !== v) {{ window.__steady = {{v, t: now}}; return false; }}
              return now - s.t >= quiet; }}""",
        arg=quiet_ms,
        timeout=timeout,
        polling=100,
    )


def watch_students(students: list[Page], js_condition: str) -> None:
    """Each student page records (Date.now()) the first render where the condition holds."""
    for s in students:
        s.evaluate(
            """cond => {
                 window.__seenAt = null;
                 const f = new Function('return (' + cond + ')');
                 const check = () => {
                   if (window.__seenAt === null && f()) window.__seenAt = Date.now();
                 };
                 window.__seenObs?.disconnect();
                 window.__seenObs = new MutationObserver(check);
                 window.__seenObs.observe(document.body,
                                          {attributes: true, childList: true, subtree: true});
                 check();
               }""",
            js_condition,
        )


def seen_after(students: list[Page], t_click: float) -> list[float]:
    out = []
    for s in students:
        s.wait_for_function("window.__seenAt !== null", polling=20, timeout=5_000)
        out.append((s.evaluate("window.__seenAt") - t_click) / 1000)
    return out


def test_students_follow_the_instructor_and_cannot_control(pages: Pages, server: str) -> None:
    inst = pages.open("/")
    code = open_room(inst)
    # the join URL for the projector
    assert inst.get_attribute("[data-testid=room-url]", "href").endswith(f"/?room={code}")
    students = [pages.open(f"/?room={code}"), pages.open(f"/?room={code}")]
    for s in students:
        s.wait_for_selector("[data-testid=room-banner][data-role=student]")
        assert code in s.inner_text("[data-testid=room-banner]")

    run_id = start_paced_run(inst)
    for s in students:
        s.wait_for_function("id => window.distlab.app.runId === id", arg=run_id, timeout=5_000)
        s.wait_for_function(f"Number(document.querySelector('{SCRUB}').max) >= 2", timeout=20_000)
    # steps keep advancing on the students' pages
    base = [shown_step(s) for s in students]
    for s, b in zip(students, base, strict=True):
        s.wait_for_function(f"Number(document.querySelector('{SCRUB}').max) > {b}", timeout=5_000)

    # controls are disabled for a run the student does not control; the fork is offered
    for s in students:
        assert s.is_disabled("[data-testid=pause-run]")
        assert s.is_disabled("[data-testid=stop-run]")
        assert s.get_attribute("body", "data-control") == "no"
        assert s.is_visible("[data-testid=room-fork]")

    # --- pause: both students show "paused" within 1 s of the instructor's click
    watch_students(students, f"document.querySelector('{STATUS}').dataset.status === 'paused'")
    t_click = inst.evaluate(
        "() => { document.querySelector('[data-testid=pause-run]').click(); return Date.now(); }"
    )
    lags = seen_after(students, t_click)
    print(f"students saw the pause after {lags} s")
    assert all(lag < 1.0 for lag in lags), f"students saw the pause after {lags} s"
    wait_status(inst, "paused", 5_000)

    # the last steps in flight have landed: everyone shows the same step
    wait_steady(inst, f"document.querySelector('{SCRUB}').max")
    paused_at = shown_step(inst)
    for s in students:
        s.wait_for_function(
            f"Number(document.querySelector('{SCRUB}').max) === {paused_at}", timeout=3_000
        )

    # --- step: both students' step increments within 1 s
    watch_students(students, f"Number(document.querySelector('{SCRUB}').max) > {paused_at}")
    t_click = inst.evaluate(
        "() => { document.querySelector('[data-testid=step-run]').click(); return Date.now(); }"
    )
    lags = seen_after(students, t_click)
    print(f"students saw the step after {lags} s")
    assert all(lag < 1.0 for lag in lags), f"students saw the step after {lags} s"
    inst.wait_for_function(f"Number(document.querySelector('{SCRUB}').max) === {paused_at + 1}")
    stepped = paused_at + 1

    # --- a student's control attempts are refused and change nothing
    s1, s2 = students
    # a click that gets through anyway (the button forced on): the server's message shows
    s1.evaluate(
        "(() => { const b = document.querySelector('[data-testid=pause-run]');"
        " b.disabled = false; b.click(); })()"
    )
    # the page refuses it itself, with a brief note (no request that the server would 403)
    s1.wait_for_selector("[data-testid=control-note]:not([hidden])")
    msg = s1.inner_text("[data-testid=control-note]")
    assert "instructor" in msg, msg
    # the keyboard (space = resume a paused run) is refused the same way
    s2.locator("body").press("Space")
    s2.wait_for_selector("[data-testid=control-note]:not([hidden])")
    # a direct request without a token
    status = s1.evaluate(
        """id => fetch(`/api/runs/${id}/control`, {method: 'POST',
              headers: {'Content-Type': 'application/json'},
              body: JSON.stringify({action: 'resume'})}).then(r => r.status)""",
        run_id,
    )
    assert status == 403
    code_, _ = post(f"{server}/api/runs/{run_id}/control", {"action": "stop"})
    assert code_ == 403
    # Nothing may change now: a fixed wait gives a wrongly accepted resume the time to run a
    # step (a quarter of a second at this pace), which the step counts below would show.
    inst.wait_for_timeout(600)
    run = get_json(f"{server}/api/runs/{run_id}")
    assert run["status"] == "paused"
    assert run["step"] == stepped
    assert inst.get_attribute(STATUS, "data-status") == "paused"
    for s in students:
        assert s.get_attribute(STATUS, "data-status") == "paused"
        assert shown_step(s) == stepped

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    inst.screenshot(path=str(ARTIFACTS / "room-instructor.png"))
    s1.screenshot(path=str(ARTIFACTS / "room-student.png"))

    # --- a student forks the run: a sandbox of their own, same config, under their control
    s1.click("[data-testid=room-fork]")
    s1.wait_for_function(
        "id => window.distlab.app.runId && window.distlab.app.runId !== id", arg=run_id
    )
    fork_id = s1.evaluate("window.distlab.app.runId")
    assert get_json(f"{server}/api/runs/{fork_id}")["config"] == run["config"]
    s1.wait_for_selector("[data-testid=room-back]")
    assert s1.get_attribute("[data-testid=room-banner]", "data-following") == "false"
    wait_status(s1, "running", 20_000)
    assert s1.get_attribute("body", "data-control") == "yes"
    s1.click("[data-testid=pause-run]")
    wait_status(s1, "paused", 5_000)
    assert get_json(f"{server}/api/runs/{fork_id}")["status"] == "paused"
    # the other student and the instructor's run are untouched
    assert s2.evaluate("window.distlab.app.runId") == run_id
    assert get_json(f"{server}/api/runs/{run_id}")["status"] == "paused"
    s1.screenshot(path=str(ARTIFACTS / "room-student-sandbox.png"))

    # --- the instructor starts a new run: the following student switches, the forked one
    # stays in the sandbox (and is offered the instructor's new run)
    inst.click("[data-testid=stop-run]")
    wait_status(inst, "stopped", 10_000)
    s1.click("[data-testid=stop-run]")
    run2 = start_paced_run(inst, steps=4, pace=8)
    s2.wait_for_function("id => window.distlab.app.runId === id", arg=run2, timeout=5_000)
    s1.wait_for_function(
        "id => document.querySelector('[data-testid=room-banner]').dataset.runId === id", arg=run2
    )
    assert s1.evaluate("window.distlab.app.runId") == fork_id
    s1.click("[data-testid=room-back]")
    s1.wait_for_function("id => window.distlab.app.runId === id", arg=run2)
    assert s1.get_attribute("[data-testid=room-banner]", "data-following") == "true"
    wait_status(s2, "finished", 20_000)

    # --- the instructor closes the room: every student is told that it ended
    inst.click("[data-testid=room-leave]")
    inst.wait_for_selector("[data-testid=room-banner]", state="hidden")
    for s in students:
        s.wait_for_selector("[data-testid=room-banner]", state="hidden", timeout=5_000)
        s.wait_for_selector("[data-testid=room-error]:not([hidden])")
        assert code in s.inner_text("[data-testid=room-error]")
    with pytest.raises(urllib.error.HTTPError) as gone:
        get_json(f"{server}/api/rooms/{code}")
    gone.value.close()
    assert gone.value.code == 404


def test_room_errors_are_clear(pages: Pages, server: str) -> None:
    pg = pages.open("/?room=ZZZZ99")
    pg.wait_for_selector("[data-testid=room-error]:not([hidden])")
    assert "ZZZZ99" in pg.inner_text("[data-testid=room-error]")
    assert pg.is_hidden("[data-testid=room-banner]")
    assert "room=" not in pg.url
    # a wrong key is refused with the server's reason
    pg.fill("[data-testid=room-key-input]", "not-the-key")
    pg.click("[data-testid=room-open]")
    pg.wait_for_function(
        "document.querySelector('[data-testid=room-error]').textContent.includes('403') || "
        "document.querySelector('[data-testid=room-error]').textContent.length > 20"
    )
    assert pg.is_hidden("[data-testid=room-banner]")
    # a join by typing the code (lower case, spaces) finds a real room
    status, room = post(f"{server}/api/rooms", {}, {"X-Instructor-Key": INSTRUCTOR_KEY})
    assert status == 201
    pg.fill("[data-testid=room-join-input]", " " + room["code"].lower() + " ")
    pg.click("[data-testid=room-join]")
    pg.wait_for_selector("[data-testid=room-banner][data-role=student]")
    assert room["code"] in pg.inner_text("[data-testid=room-code]")
    assert f"room={room['code']}" in pg.url
    pg.click("[data-testid=room-leave]")
    assert pg.is_hidden("[data-testid=room-banner]")


def test_students_see_the_instructors_lesson(pages: Pages, server: str) -> None:
    inst = pages.open("/")
    code = open_room(inst)
    student = pages.open(f"/?room={code}")
    student.wait_for_selector("[data-testid=room-banner][data-role=student]")
    lesson_id = get_json(f"{server}/api/lessons")[0]["id"]
    inst.select_option("[data-testid=lesson-select]", lesson_id)
    panel_shows = "id => document.querySelector('[data-testid=lesson-panel]').dataset.lesson === id"
    inst.wait_for_function(panel_shows, arg=lesson_id)
    student.wait_for_function(panel_shows, arg=lesson_id, timeout=5_000)
    assert get_json(f"{server}/api/rooms/{code}")["lesson"] == lesson_id


def test_the_instructor_controls_a_run_started_elsewhere(pages: Pages, server: str) -> None:
    status, run = post(
        f"{server}/api/runs",
        {"strategy": "data_parallel", "workers": 2, "steps": 40, "pace": 4},
    )
    assert status == 201
    inst = pages.open("/")
    inst.click("#btn-refresh-runs")
    inst.click(f"[data-testid=run-list] .run-item[data-run-id='{run['id']}']")
    wait_status(inst, "running", 20_000)
    # before the room is opened this page holds neither the run's token nor the key
    assert inst.get_attribute("body", "data-control") == "no"
    open_room(inst)
    inst.wait_for_function("document.body.dataset.control === 'yes'")
    inst.click("[data-testid=pause-run]")
    wait_status(inst, "paused", 5_000)
    assert get_json(f"{server}/api/runs/{run['id']}")["status"] == "paused"
    inst.click("[data-testid=stop-run]")
    wait_status(inst, "stopped", 10_000)


def test_student_keys_say_only_the_instructor_controls(pages: Pages) -> None:
    inst = pages.open("/")
    code = open_room(inst)
    student = pages.open(f"/?room={code}")
    student.wait_for_selector("[data-testid=room-banner][data-role=student]")
    run_id = start_paced_run(inst, workers=2, steps=200, pace=4)
    student.wait_for_function("id => window.distlab.app.runId === id", arg=run_id, timeout=10_000)
    inst.keyboard.press("Escape")
    inst.click("[data-testid=pause-run]")
    student.wait_for_function(
        "document.querySelector('[data-testid=run-status]').dataset.status === 'paused'",
        timeout=10_000,
    )
    student.wait_for_function(
        "document.querySelector('[data-testid=narration]').innerText.includes('instructor paused')"
    )
    assert "Resume (space)" not in student.inner_text("[data-testid=narration]")
    controls: list[str] = []
    student.on(
        "request", lambda r: controls.append(r.url) if r.url.endswith("/control") else None
    )
    student.locator("body").click(position={"x": 600, "y": 30})
    student.keyboard.press("Space")
    note = student.locator("[data-testid=control-note]")
    note.wait_for(state="visible", timeout=3_000)
    assert "Only the instructor controls this run" in note.inner_text()
    student.keyboard.press("ArrowRight")
    # No request may follow: a fixed wait leaves the keys the time to send one, and a request
    # the page sends afterwards is seen after any control request they sent.
    student.wait_for_timeout(300)
    with student.expect_request(lambda r: r.url.endswith("/api/health")):
        student.evaluate("fetch('/api/health')")
    student.screenshot(path=str(ARTIFACTS / "room-student-note.png"))
    assert controls == [], controls
    inst.click("[data-testid=stop-run]")
