# Affea: one image for web, worker and scheduler (entrypoint.sh picks the role).

# Browser libraries pinned in package-lock.json (the player, the admin's uploader), bundled
# into our static files by the same script `make install` runs.
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
# Dev dependencies too: esbuild bundles; only the bundles leave this stage.
RUN npm ci --no-audit --no-fund --loglevel=error
COPY scripts/build-assets.sh scripts/
COPY static/js/admin-uploader.js static/js/
RUN scripts/build-assets.sh

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=affea.settings \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/var/media

# Debian's FFmpeg makes the renditions; `manage.py backup` runs pg_dump, which must be of
# the server's major version (compose runs postgres:16; Debian 12 ships 15): PostgreSQL's
# own repository, set up by Debian's postgresql-common script.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg postgresql-common \
    && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 affea \
    && useradd --system --uid 10001 --gid affea --home-dir /app --shell /usr/sbin/nologin affea

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY --chown=affea:affea . .
COPY --from=assets --chown=affea:affea /build/static/vendor/ static/vendor/

# Collect static files at build time with throwaway production-shaped values: the
# image must never need the real secrets to build.
RUN DEBUG=0 \
    SECRET_KEY=build-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz \
    ALLOWED_HOSTS=build.invalid SITE_URL=https://build.invalid \
    S3_ACCESS_KEY_ID=build S3_SECRET_ACCESS_KEY=build \
    DMCA_AGENT_NAME=build DMCA_AGENT_ADDRESS=build DMCA_AGENT_EMAIL=agent@build.invalid \
    DMCA_AGENT_PHONE=+10000000000 EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/var/media \
    && chown -R affea:affea /app/staticfiles /app/var

USER affea
EXPOSE 8000
ENTRYPOINT ["/app/entrypoint.sh"]
CMD ["web"]
