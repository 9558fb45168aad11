# rcc-bot: build the wheel, install it in a slim image, run as a non-root user.
#   docker build -t rcc-bot .
#   docker run -d --name rcc-bot -v rcc-data:/data -v "$PWD/config.toml:/config/config.toml:ro" rcc-bot
# The test and demo machinery (devkit/) is left out unless the image is for the demo:
#   docker build --build-arg DEMO=yes -t rcc-bot-demo .   then   docker run -it rcc-bot-demo demo
# The base image is an exact release; every package comes from a lock file with hashes
# (requirements/pdf.txt: the runtime with the `pdf` extra, or test.txt with Synapse for the
# demo; `make lock` refreshes them). Reports as PDF need Pango and a font from Debian.
ARG DEMO=no
ARG BASE=python:3.11.14-slim-bookworm
FROM ${BASE} AS build
ARG DEMO
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY bot ./bot
COPY commands ./commands
COPY storage ./storage
COPY devkit ./devkit
RUN if [ "$DEMO" != "yes" ]; then rm -rf devkit; fi \
    && pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM ${BASE}
ARG DEMO
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 rcc \
    && mkdir -p /data /config && chown rcc:rcc /data
COPY --from=build /wheels /wheels
COPY requirements /requirements
# The same install the test suite checks (tests/test_package.py): the locked packages, then
# the wheel alone.
RUN lock=pdf; if [ "$DEMO" = "yes" ]; then lock=test; fi \
    && pip install --no-cache-dir --require-hashes --no-deps -r "/requirements/$lock.txt" \
    && pip install --no-cache-dir --no-deps /wheels/rcc_bot-*.whl && pip check \
    && rm -rf /wheels /requirements
USER rcc
WORKDIR /data
# The store (session, encryption keys) and a SQLite database live here: keep the volume.
VOLUME ["/data"]
# Needs [health] listen = "127.0.0.1:9090" in the config (as in config.example.toml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:9090/healthz', timeout=4)"
ENTRYPOINT ["rcc-bot"]
CMD ["run", "--config", "/config/config.toml"]
