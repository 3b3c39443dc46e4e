# DistLab: `make serve` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV ?= .venv
# The CPU build of torch by default. With GPUs, choose your build, e.g.
#   make serve TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
TORCH_SPEC ?= torch==2.13.0
HOST ?= 127.0.0.1
PORT ?= 8000
BIN := $(VENV)/bin
# apt-get needs root; use sudo when we are not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test install install-dev browser lint bench clean

serve: $(VENV)/.installed
	$(BIN)/distlab serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev browser
	$(BIN)/ruff check .
	@if command -v node >/dev/null; then node --test tests/js/; \
	else echo "node not found: skipping the frontend reducer tests"; fi
	$(BIN)/pytest

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, from TORCH_SPEC, so the project's `torch>=2.4` installs nothing more.
	$(BIN)/pip install --quiet $(TORCH_SPEC)
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,cluster]'
	touch $@

# Debian's Chromium for the browser tests (Playwright's own download does not work offline),
# and a CJK font so that screenshots of the Chinese page show characters, not boxes.
browser:
	@{ test -x /usr/bin/chromium && fc-list :lang=zh | grep -q .; } || { \
		$(SUDO) apt-get update -q && \
		$(SUDO) apt-get install -y -q chromium fonts-wqy-microhei; }

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
