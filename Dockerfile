# motionlab: the API with embedded torch workers (CPU). Build: docker build -t motionlab .
FROM python:3.11-slim

# torch's CPU wheels (PyPI's default torch is a multi-GB CUDA build).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MOTIONLAB_HOME=/var/lib/motionlab MOTIONLAB_HOST=0.0.0.0 MOTIONLAB_PORT=8000

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY core ./core
COPY service ./service
COPY workers ./workers
COPY migrations ./migrations
RUN pip install --no-cache-dir --extra-index-url "$TORCH_INDEX_URL" . \
    && useradd --create-home motionlab && mkdir -p "$MOTIONLAB_HOME" \
    && chown motionlab "$MOTIONLAB_HOME"
COPY data ./data
USER motionlab
VOLUME ["/var/lib/motionlab"]
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "motionlab migrate && motionlab serve"]
