# DistLab for a classroom server: serves the lab on port 8000.
# Build: docker build -t distlab .
# Run:   docker run -p 8000:8000 -v distlab-data:/data \
#          -e DISTLAB_INSTRUCTOR_KEY=choose-a-key -e DISTLAB_MAX_ACTIVE_RUNS=8 distlab
# Without DISTLAB_INSTRUCTOR_KEY a key is generated at start and printed in the log.
# Runs on a Ray cluster (README, "Many runs on a Ray cluster"): build with
#   docker build --build-arg EXTRAS="[cluster]" -t distlab .
# and run with -e DISTLAB_RAY_ADDRESS=head-host:6379. Retention and a full disk:
#   -e DISTLAB_KEEP_DAYS=120 -e DISTLAB_KEEP_RUNS_PER_STUDENT=30 -e DISTLAB_MIN_FREE_MB=500
FROM python:3.11-slim

# tini as PID 1: forwards SIGTERM to the server (which then kills every run's workers)
# and reaps any process that outlives its parent, so nothing is left as a zombie.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DISTLAB_HOST=0.0.0.0 \
    DISTLAB_PORT=8000 \
    DISTLAB_DATA_DIR=/data \
    DISTLAB_MAX_RUNS_PER_STUDENT=2

WORKDIR /app

# torch first, CPU build from PyTorch's CPU index, so the project's `torch>=2.4`
# requirement is already met and no multi-GB CUDA build is pulled in.
ARG TORCH_SPEC="torch==2.13.0"
RUN pip install --index-url https://download.pytorch.org/whl/cpu ${TORCH_SPEC}

# Optional extras, e.g. "[cluster]" for Ray (not in the default image: Ray adds some hundreds of MB).
ARG EXTRAS=""
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY backend ./backend
COPY frontend ./frontend
RUN pip install ".${EXTRAS}" \
    && useradd --create-home --uid 1000 distlab \
    && mkdir -p /data && chown distlab /data

USER distlab
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health')"
# The same entry point as `make serve`; host, port, data dir and the instructor key come
# from DISTLAB_*.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["distlab", "serve"]
