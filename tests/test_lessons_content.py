"""The course's lessons (frontend/lessons/*.json): valid, bilingual, complete, runnable.

Every chapter of the course outline has a lesson; the chapters with a live demo have a
demo lesson whose preset (and comparison) is a run POST /api/runs accepts; every text
exists in English and in Chinese; related lessons exist; the catalog keys the lesson panel
builds at run time exist in both languages.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from backend.lessons import Lesson, load_lessons
from backend.models import RunCreate
from engine.scenarios import SCENARIOS
from frontend import LESSONS_DIR, STATIC_DIR
from tests.frontend_catalogs import catalogs

FILES = sorted(LESSONS_DIR.glob("*.json"))
NUM_CHAPTERS = 15  # /work/shared/seed/course-outline.md: 15 chapters
# Chapters with a live demo (the engine runs them) and the conceptual ones.
DEMO_CHAPTERS = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
CONCEPT_CHAPTERS = {3, 14, 15}  # chapter 5 became a demo (the run as a DDP script)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _catalogs() -> dict[str, dict[str, str]]:
    return catalogs()


def _texts(lesson: Lesson) -> list[tuple[str, str]]:
    """Every (en, zh) pair of a lesson."""
    pairs = [(lesson.title.en, lesson.title.zh), (lesson.summary.en, lesson.summary.zh)]
    pairs += list(zip(lesson.look_at.en, lesson.look_at.zh, strict=True))
    if lesson.predict:
        p = lesson.predict
        pairs += [(p.question.en, p.question.zh), (p.explain.en, p.explain.zh)]
        pairs += [(c.en, c.zh) for c in p.choices]
    return pairs


@pytest.fixture(scope="module")
def lessons() -> dict[str, Lesson]:
    return load_lessons()


def test_there_are_lesson_files() -> None:
    assert len(FILES) >= NUM_CHAPTERS


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_file_parses_and_validates(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    lesson = Lesson.model_validate(data)
    assert lesson.id == path.stem
    assert 1 <= lesson.chapter <= NUM_CHAPTERS


def test_ids_are_unique_and_all_load(lessons: dict[str, Lesson]) -> None:
    assert len(lessons) == len(FILES)
    assert sorted(lessons) == sorted(p.stem for p in FILES)


def test_every_chapter_of_the_outline_has_a_lesson(lessons: dict[str, Lesson]) -> None:
    chapters = {x.chapter for x in lessons.values()}
    assert chapters == set(range(1, NUM_CHAPTERS + 1))
    demo = {x.chapter for x in lessons.values() if x.kind == "demo"}
    assert demo >= DEMO_CHAPTERS, f"chapters without a demo lesson: {DEMO_CHAPTERS - demo}"
    concept = {x.chapter for x in lessons.values() if x.kind == "concept"}
    assert concept >= CONCEPT_CHAPTERS, f"without a concept page: {CONCEPT_CHAPTERS - concept}"


def test_both_languages_are_complete_and_really_translated(lessons: dict[str, Lesson]) -> None:
    for lesson in lessons.values():
        assert len(lesson.look_at.en) == len(lesson.look_at.zh), lesson.id
        for en, zh in _texts(lesson):
            assert en.strip() and zh.strip(), lesson.id
            assert "undefined" not in en and "undefined" not in zh, lesson.id
            assert not CJK.search(en), f"{lesson.id}: Chinese in the English text {en!r}"
            # A Chinese text that is only a symbol or number (a choice such as "1.5 N") is
            # allowed to equal the English one; any real sentence must be Chinese.
            if re.search(r"[A-Za-z]{4,}", en) and len(en) > 12:
                assert CJK.search(zh), f"{lesson.id}: untranslated {zh!r}"


def test_demo_lessons_have_a_question_and_a_runnable_preset(lessons: dict[str, Lesson]) -> None:
    for lesson in lessons.values():
        if lesson.kind != "demo":
            continue
        assert lesson.predict is not None and lesson.preset is not None, lesson.id
        assert 0 <= lesson.predict.answer < len(lesson.predict.choices)
        for preset in (lesson.preset, lesson.compare):
            if preset is None:
                continue
            assert preset.scenario in SCENARIOS, lesson.id
            config = preset.run_config()
            # exactly what the page sends to POST /api/runs
            RunCreate.model_validate(config).to_engine()
            for key, value in preset.overrides.items():
                if key == "options":  # the preset's options, over the scenario's
                    assert value.items() <= config["options"].items(), lesson.id
                else:
                    assert config[key] == value, (lesson.id, key)


def test_concept_lessons_link_to_demos(lessons: dict[str, Lesson]) -> None:
    for lesson in lessons.values():
        if lesson.kind != "concept":
            continue
        assert lesson.predict is None and lesson.preset is None, lesson.id
        assert any(lessons[r].kind == "demo" for r in lesson.related), lesson.id


def test_related_lessons_exist_and_are_not_self(lessons: dict[str, Lesson]) -> None:
    for lesson in lessons.values():
        assert lesson.id not in lesson.related
        assert len(set(lesson.related)) == len(lesson.related), lesson.id
        for rid in lesson.related:
            assert rid in lessons, f"{lesson.id}: related {rid!r} not found"


def test_papers_are_complete(lessons: dict[str, Lesson]) -> None:
    for lesson in lessons.values():
        assert lesson.papers, lesson.id
        for p in lesson.papers:
            assert p.authors.strip() and p.title.strip() and p.venue.strip()
            assert 1950 <= p.year <= 2026


def test_lesson_panel_catalog_keys_exist_in_both_languages(lessons: dict[str, Lesson]) -> None:
    cats = _catalogs()
    source = (STATIC_DIR / "js" / "views" / "lessons.js").read_text(encoding="utf-8")
    used = {k for k in re.findall(r'"(lesson\.[\w.]+)"', source) if not k.endswith(".")}
    # built at run time: "lesson.chapter." + chapter
    used |= {f"lesson.chapter.{n}" for n in range(1, NUM_CHAPTERS + 1)}
    assert used, "lessons.js uses no catalog keys?"
    for lang in ("en", "zh"):
        missing = used - set(cats[lang])
        assert not missing, f"{lang}: {sorted(missing)}"


def test_api_serves_every_lesson_with_its_configs(client: TestClient,
                                                  lessons: dict[str, Lesson]) -> None:
    listed = client.get("/api/lessons").json()
    assert [x["id"] for x in listed] == list(lessons)
    for lesson in lessons.values():
        body = client.get(f"/api/lessons/{lesson.id}").json()
        assert body["id"] == lesson.id
        for key in ("preset", "compare"):
            if body[key] is not None:
                RunCreate.model_validate(body[key]["config"])
