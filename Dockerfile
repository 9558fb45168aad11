# rcc-bot: build the wheel, install it in a slim image, run as a non-root user.
#   docker build -t rcc-bot .
#   docker run -d --name rcc-bot -v rcc-data:/data -v "$PWD/config.toml:/config/config.toml:ro" rcc-bot
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY storage ./storage
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 rcc \
    && mkdir -p /data /config && chown rcc:rcc /data
COPY --from=build /wheels /wheels
# The same install the test suite checks (tests/test_package.py): the wheel and its extras.
RUN pip install --no-cache-dir "$(ls /wheels/rcc_bot-*.whl)[postgres]" && rm -rf /wheels
USER rcc
WORKDIR /data
# The store (session, encryption keys) and a SQLite database live here: keep the volume.
VOLUME ["/data"]
# Needs [health] listen = "127.0.0.1:9090" in the config (as in config.example.toml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:9090/healthz', timeout=4)"
ENTRYPOINT ["rcc-bot"]
CMD ["run", "--config", "/config/config.toml"]
