# syntax=docker/dockerfile:1
# Seasons as a container image: a thin wrapper over the commands that
# tests/deploy/test_wheel_install.py runs (build the wheel, install it alone,
# migrate with `flask --app app db upgrade`, serve with gunicorn.conf.py), and
# tests/deploy/test_container_files.py checks that this file still names them.
#
#   docker build -t seasons .
#   docker compose up            # see compose.yaml and README "Production"

# Stage 1: the wheel (it carries templates/, content/ and app.py; see pyproject.toml).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md app.py ./
COPY portfolio ./portfolio
COPY scheduler ./scheduler
COPY templates ./templates
COPY content ./content
COPY clients/python ./clients/python
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# Stage 2: the wheel and its dependencies, no source tree, no build tools.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    INSTANCE_PATH=/srv/seasons/instance \
    SCHEDULER_IN_WEB=0
RUN useradd --system --uid 10001 --create-home --home-dir /srv/seasons seasons
COPY --from=build /dist/ /tmp/dist/
# The same pinned versions as `make install` and CI (requirements.lock, `make lock`).
COPY requirements.lock /tmp/dist/
RUN pip install -c /tmp/dist/requirements.lock /tmp/dist/*.whl && rm -rf /tmp/dist
WORKDIR /srv/seasons
COPY gunicorn.conf.py ./
USER seasons
# Static files with their .gz, for nginx (compose.yaml shares this folder with it).
RUN mkdir -p instance && python -m portfolio.static_files /srv/seasons/static
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "app:app"]
