# pagecleaner as a slim, non-root image: the same gunicorn command as `make run`, configured by
# environment variables only (docs/container.md). Build: docker build -t pagecleaner .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# Dependencies in their own layer: rebuilt only when requirements.txt changes.
# - a venv, so the image's own python stays untouched (and Debian's PEP 668 guard is not hit);
# - pip upgraded first: pip 23 cannot install trafilatura's lxml extras (same as the Makefile);
# - pip verifies TLS with the system CA bundle (ca-certificates is in the slim image), so a
#   registry behind a TLS-intercepting proxy works when the build mounts that proxy's bundle.
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv "$VIRTUAL_ENV" \
 && if [ -s /etc/ssl/certs/ca-certificates.crt ]; then export PIP_CERT=/etc/ssl/certs/ca-certificates.crt; fi \
 && python3 -m pip install --quiet --upgrade pip \
 && python3 -m pip install --quiet --requirement /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# A fixed numeric uid, so Kubernetes' runAsNonRoot can verify it without resolving names.
ARG APP_UID=10001
RUN groupadd --gid "$APP_UID" cleaner \
 && useradd --uid "$APP_UID" --gid cleaner --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin cleaner

WORKDIR /app
COPY service/ ./service/
# Bytecode compiled at build time (pip did the same for the dependencies): every extraction
# process imports the service afresh, and the service user cannot write __pycache__.
RUN python3 -m compileall -q service
# The `pagecleaner` command of the pip-installed package (pyproject's [project.scripts]), here
# for the code in /app, from any working directory: `docker run --rm -i IMAGE pagecleaner extract -`.
ENV PYTHONPATH=/app
RUN printf '#!/bin/sh\nexec python3 -c "import sys; from service.commands import main; sys.exit(main())" "$@"\n' \
      > "$VIRTUAL_ENV/bin/pagecleaner" \
 && chmod 755 "$VIRTUAL_ENV/bin/pagecleaner"
# The code is root-owned and read-only for the service user; it writes nothing but /tmp.
USER ${APP_UID}:${APP_UID}

# Inside a container the service must listen on all interfaces (the host, or the pod's other
# containers, reach it through the container's network namespace); the code's own default is
# loopback. Every other setting keeps its default: see `python3 -m service.check_config --list`.
ENV HOST=0.0.0.0 \
    PORT=8080
# The server refuses a non-loopback bind without API keys unless this is set, so the image starts
# without configuration. It then answers anyone who reaches the port: a published port
# (`docker run -p 8080:8080`) or a pod's IP (any pod in the cluster). Wherever that is possible,
# run it with CLEANER_API_KEYS and CLEANER_ALLOW_OPEN=0 (docs/container.md, deploy/kubernetes/).
ENV CLEANER_ALLOW_OPEN=1

EXPOSE 8080

# Liveness only (the web worker answers); readiness (/readyz runs a canary page through an
# extraction process) is for the orchestrator's readiness probe. No curl in slim images.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request as u; h = os.environ.get('HOST', ''); h = '127.0.0.1' if h in ('', '0.0.0.0', '::') else h; u.urlopen(f\"http://{h}:{os.environ.get('PORT', '8080')}/healthz\", timeout=4)"]

CMD ["gunicorn", "--config", "python:service.http.gunicorn_conf", "service.http.wsgi:app"]
