# One image for every Shouwang service; the compose file picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 1000 shouwang \
    && mkdir -p /var/lib/shouwang/edge /var/lib/shouwang/snapshots \
    && chown -R shouwang /var/lib/shouwang
WORKDIR /app

COPY pyproject.toml README.md LICENSE ./
COPY shouwang ./shouwang
COPY ingest ./ingest
COPY edge ./edge
COPY records ./records
COPY rules ./rules
COPY alert_api ./alert_api
COPY notify ./notify
COPY cameras ./cameras
COPY sensorbridge ./sensorbridge
COPY shouwang_cli ./shouwang_cli
COPY models ./models
COPY configs ./configs
RUN pip install --no-cache-dir '.[edge,server]'

USER shouwang
ENTRYPOINT ["shouwang"]
CMD ["--help"]
