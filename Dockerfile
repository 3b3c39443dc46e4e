# DistLab for a classroom server: serves the lab on port 8000.
# Build: docker build -t distlab .    Run: docker run -p 8000:8000 -v distlab-data:/data distlab
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DISTLAB_HOST=0.0.0.0 \
    DISTLAB_PORT=8000 \
    DISTLAB_DATA_DIR=/data

WORKDIR /app

# torch first, CPU build from PyTorch's CPU index, so the project's `torch>=2.4`
# requirement is already met and no multi-GB CUDA build is pulled in.
ARG TORCH_SPEC="torch==2.13.0"
RUN pip install --index-url https://download.pytorch.org/whl/cpu ${TORCH_SPEC}

COPY pyproject.toml README.md ./
COPY engine ./engine
COPY backend ./backend
COPY frontend ./frontend
RUN pip install . \
    && useradd --create-home --uid 1000 distlab \
    && mkdir -p /data && chown distlab /data

USER distlab
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health')"
# The same entry point as `make serve`; host, port and data dir come from DISTLAB_*.
CMD ["distlab", "serve"]
