# ECMO Steward: one image for every service (web, MLLP listener, worker, scheduler, migrations).
# Build and start the whole platform: `docker compose up --build` (compose.yaml, docs/deploy.md).
FROM python:3.12-slim

# postgresql-client: pg_dump / pg_restore for `ecmo backup` and `ecmo restore`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/ecmo ecmo

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir .
COPY docker/entrypoint.sh /app/docker/entrypoint.sh

ENV ECMO_VAR_DIR=/var/lib/ecmo \
    PYTHONUNBUFFERED=1
RUN mkdir -p /var/lib/ecmo && chown ecmo /var/lib/ecmo
USER ecmo
VOLUME /var/lib/ecmo

EXPOSE 8000 2575
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["serve", "--bind", "0.0.0.0:8000"]
