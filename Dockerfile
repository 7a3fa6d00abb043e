# The connector as one image: `nurture serve` (webhooks, gunicorn) and `nurture worker` run from it.
# Build:  docker build -t nurture-connector .
# Run:    docker compose up   (compose.yaml: PostgreSQL + serve + worker; docs/DEPLOY.md)
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY connector ./connector
COPY webhooks ./webhooks
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
# An unprivileged user: the process holds CRM tokens, it needs no root.
RUN useradd --create-home --uid 10001 nurture
COPY --from=build /install /usr/local
WORKDIR /app
COPY --chown=nurture:nurture app.yaml ./
COPY --chown=nurture:nurture mappings ./mappings
COPY --chown=nurture:nurture config ./config
USER nurture
ENV NURTURE_CONFIG=/app/app.yaml NURTURE_HOST=0.0.0.0 NURTURE_PORT=8000 PYTHONUNBUFFERED=1
EXPOSE 8000
# Liveness for `serve`; a worker's liveness is its process (restart policy) — see docs/DEPLOY.md.
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
ENTRYPOINT ["nurture", "--config", "/app/app.yaml"]
CMD ["serve"]
