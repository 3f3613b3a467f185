# syntax=docker/dockerfile:1
# GRC production image: gunicorn by default; the same image runs `grc migrate` and
# `grc procrastinate worker` (see docker-compose.yml and docs/deploy.md).
FROM python:3.11-slim-bookworm

# Run-time libraries: Pango and HarfBuzz for WeasyPrint (acknowledgement PDFs), a base font,
# libmagic to check the real type of uploaded files, and the MIME database.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        libmagic1 \
        fonts-dejavu-core \
        shared-mime-info \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged user; fixed ids so that volumes keep a predictable owner across rebuilds. Its home
# stays outside the /var/lib/grc volume (gunicorn puts its control socket under ~/.gunicorn).
RUN groupadd --system --gid 10001 grc \
    && useradd --system --uid 10001 --gid grc --home-dir /home/grc --create-home \
        --shell /usr/sbin/nologin grc \
    && mkdir -p /var/lib/grc/static /var/lib/grc/media \
    && chown -R grc:grc /var/lib/grc

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GRC_ENV=production \
    GRC_VAR_DIR=/var/lib/grc

WORKDIR /usr/src/grc
COPY pyproject.toml requirements.lock README.md ./
COPY grc/ ./grc/
RUN pip install --no-cache-dir -c requirements.lock .

# The application runs from site-packages, not from this source tree: fail the build if the
# package left out templates, static files or compiled translations (they must be declared as
# package data in pyproject.toml).
RUN set -eu; \
    pkg="$(cd / && python -c 'import os, grc; print(os.path.dirname(grc.__file__))')"; \
    missing="$(find grc -type f \( -path '*/templates/*' -o -path '*/static/*' -o -name '*.mo' \) \
        | while read -r f; do [ -e "$pkg/${f#grc/}" ] || echo "$f"; done)"; \
    if [ -n "$missing" ]; then \
        echo "Not installed with the grc package (declare them as package data):" $missing >&2; \
        exit 1; \
    fi

USER grc

# Static files are collected into STATIC_ROOT ($GRC_VAR_DIR/static) at build time. The settings
# demand these variables in production; the dummy values below exist only for this command
# (collectstatic opens no database connection and sends no mail).
# The app has no whitenoise: the TLS reverse proxy serves /static/ straight from the STATIC_ROOT
# volume (docker-compose.yml mounts a named volume on /var/lib/grc and its `migrate` service
# re-runs collectstatic, since a volume is only seeded from the image when it is empty).
RUN set -eu; \
    SECRET_KEY=build \
    DATABASE_URL=postgres://build@localhost/build \
    ALLOWED_HOSTS=build.invalid \
    GRC_BASE_URL=https://build.invalid \
    EMAIL_URL=dummy:// \
        grc collectstatic --noinput; \
    missing="$(cd /usr/src/grc && find grc -type f -path '*/static/*' \
        | while read -r f; do [ -e "$GRC_VAR_DIR/static/${f#*/static/}" ] || echo "$f"; done)"; \
    if [ -n "$missing" ]; then \
        echo "Not found by collectstatic (check STATICFILES_DIRS / app static dirs):" $missing >&2; \
        exit 1; \
    fi

WORKDIR /home/grc
EXPOSE 8000

# /healthz answers 200 while the database is reachable, 503 otherwise. Django checks the Host
# header against ALLOWED_HOSTS, so the probe presents the host name of GRC_BASE_URL (which must
# therefore be allowed); /healthz is exempt from the HTTPS redirect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.parse, urllib.request; host = urllib.parse.urlsplit(os.environ['GRC_BASE_URL']).hostname; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8000/healthz', headers={'Host': host}), timeout=4)"]

CMD ["gunicorn", "grc.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
