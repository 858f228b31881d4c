# syntax=docker/dockerfile:1
#
# Modelog server image.
#
#   docker build -t modelog .
#   docker run --rm -p 127.0.0.1:8080:8080 \
#       -e MODELOG_DATABASE_URL=postgresql://user:pass@db-host:5432/modelog modelog
#
# The database URL comes from the environment (MODELOG_DATABASE_URL). Without it the
# server starts an embedded PostgreSQL under MODELOG_DATA_DIR (/data, writable by the
# service user; mount a volume there to keep it). compose.yaml wires it to a postgres
# service instead.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    MODELOG_DATA_DIR=/data \
    MODELOG_LOG_FORMAT=json

# Unprivileged service account (a fixed numeric id, so orchestrators can verify runAsNonRoot;
# the embedded PostgreSQL also refuses to run as root).
RUN groupadd --system --gid 10001 modelog \
    && useradd --system --uid 10001 --gid modelog --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin modelog

WORKDIR /app

# The whole source tree: the package is installed editable, and the migrations are found
# relative to it at run time.
COPY pyproject.toml README.md ./
COPY registry/ registry/
COPY projections/ projections/
COPY migrations/ migrations/

RUN pip install --no-cache-dir -e . \
    && mkdir -p /data \
    && chown modelog:modelog /data

USER 10001:10001

EXPOSE 8080

# Liveness: the process answers. (curl is not in the slim image, python is.)
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]

# Binding 0.0.0.0 is needed inside a container; choose what is published on the host side.
CMD ["modelog", "serve", "--host", "0.0.0.0", "--port", "8080"]
