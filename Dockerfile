# Minimal image; the operations issue adds the wheel build, volume and health check.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 rcc
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY storage ./storage
RUN pip install --no-cache-dir '.[postgres]'
USER rcc
ENTRYPOINT ["rcc-bot"]
CMD ["check-config", "--config", "/config/config.toml"]
