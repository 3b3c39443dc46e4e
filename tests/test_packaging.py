"""What can be checked of packaging without Docker or a fresh machine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_dockerfile_serves_the_same_entry_point_on_port_8000() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["distlab", "serve"]' in text
    # tini is PID 1, so SIGTERM reaches the server and stray processes are reaped
    assert 'ENTRYPOINT ["/usr/bin/tini", "--"]' in text and "apt-get install" in text
    assert "DISTLAB_PORT=8000" in text and "EXPOSE 8000" in text
    assert "DISTLAB_HOST=0.0.0.0" in text
    # The CPU build of torch is installed before the project, from the CPU index.
    torch_line = next(i for i, line in enumerate(text.splitlines()) if "whl/cpu" in line)
    project_line = next(i for i, line in enumerate(text.splitlines())
                        if line.startswith('RUN pip install ".'))
    assert torch_line < project_line


def test_console_script_and_torch_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "distlab"
    assert project["scripts"]["distlab"] == "engine.cli:main"
    torch_req = next(d for d in project["dependencies"] if d.startswith("torch"))
    assert ">=" in torch_req and "==" not in torch_req  # a range; the Makefile pins


def test_makefile_pins_torch_in_a_variable_and_readme_shows_both_commands() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^TORCH_SPEC \?= torch==\d", makefile, re.M)
    assert re.search(r"^serve:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    readme = (ROOT / "README.md").read_text()
    assert "make serve" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_frontend_files_ship_with_the_package() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "frontend*" in data["packages"]["find"]["include"]
    assert any("static" in p for p in data["package-data"]["frontend"])


def test_the_wheel_carries_the_frontend(tmp_path: Path) -> None:
    """The Docker image installs a wheel (not editable): the page must be inside it."""
    import shutil
    import subprocess
    import sys
    import zipfile

    # Build from a clean copy: an in-tree build/ directory would mask missing files.
    source = tmp_path / "src"
    anywhere = shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info", "__pycache__",
                                      "tests", "node_modules")

    def ignore(directory: str, names: list[str]) -> set[str]:
        # the runs' data directory is the root's data/ alone (as in .dockerignore): the
        # page's own frontend/static/data/ must be copied, and shipped
        skip = set(anywhere(directory, names))
        return skip | ({"data"} & set(names) if Path(directory) == ROOT else set())

    shutil.copytree(ROOT, source, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(tmp_path / "dist")],
                   check=True, capture_output=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("distlab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "frontend").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert shipped <= names, sorted(shipped - names)
    assert "engine/strategies/parameter_server.py" in names
