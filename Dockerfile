# motionlab: the API with embedded torch workers (CPU). Build: docker build -t motionlab .
# Alone: docker run -p 8000:8000 -v motionlab:/var/lib/motionlab \
#          -e MOTIONLAB_TOKENS=admin:admin:$(openssl rand -hex 32) motionlab
FROM python:3.11-slim

# torch's CPU wheels (PyPI's default torch is a multi-GB CUDA build).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# One non-root user with the same uid in this image and Dockerfile.turicreate: the API and
# the Turi Create worker share the SQLite database (and its -wal / -shm files) and blobs.
ARG MOTIONLAB_UID=10001
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MOTIONLAB_HOME=/var/lib/motionlab MOTIONLAB_HOST=0.0.0.0 MOTIONLAB_PORT=8000

RUN groupadd --gid "$MOTIONLAB_UID" motionlab \
    && useradd --uid "$MOTIONLAB_UID" --gid motionlab --create-home motionlab \
    && mkdir -p "$MOTIONLAB_HOME" && chown motionlab:motionlab "$MOTIONLAB_HOME"

# A regular (non-editable) install: the migrations ship with it (package data).
COPY pyproject.toml README.md /tmp/src/
COPY core /tmp/src/core
COPY migrations /tmp/src/migrations
COPY service /tmp/src/service
COPY workers /tmp/src/workers
# The client (the user commands and the Python API) ships from its one copy in client/.
COPY client/motionlab_client /tmp/src/client/motionlab_client
RUN pip install --no-cache-dir --extra-index-url "$TORCH_INDEX_URL" /tmp/src && rm -rf /tmp/src

WORKDIR /app
COPY data ./data
USER motionlab
VOLUME ["/var/lib/motionlab"]
EXPOSE 8000
# Ready = the database answers at the current schema and the embedded workers are alive.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
# `serve --migrate` so that `docker run` works alone; compose runs a one-shot `migrate` service.
CMD ["motionlab", "serve", "--migrate"]
