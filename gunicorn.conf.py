"""gunicorn settings for Seasons: `gunicorn -c gunicorn.conf.py app:app`.

Command-line flags override these (`--bind`, `--workers`); the Dockerfile, compose.yaml,
the systemd unit, bench/ and the tests that start gunicorn all use this file. It reads
the environment itself because gunicorn loads it before the app exists: only
WEB_CONCURRENCY, gunicorn's own convention for the worker count.
"""

from __future__ import annotations

import os

# Sync workers: nginx in front buffers slow clients, so a worker is never held by
# a slow upload or download. 2 x cores + 1 is gunicorn's rule of thumb, capped
# because each worker holds the app (about 150-250 MB with wandb and vl-convert).
_cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * (_cores or 1) + 1, 8))
worker_class = "sync"

bind = ["127.0.0.1:8000"]

# No request may run longer than this: slow work (syncs, imports, emails) belongs
# to the scheduler process. A worker stuck past it is killed and replaced.
timeout = 30
# On SIGTERM (deploy, systemd stop) workers finish the request in hand first.
graceful_timeout = 30
# Sync workers close the connection after each response; this only matters
# for other worker classes.
keepalive = 5

# No max_requests recycling: a new worker imports the app again (seconds of CPU)
# and starts with a cold per-process cache, which at a thousand requests per
# second would mean a restart every few seconds.

# The heartbeat file of each worker on tmpfs: on a container's overlay
# filesystem a slow write can make gunicorn think a healthy worker hung.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicorn's runtime control socket (gunicornc) is not used; left on, every
# gunicorn of a user would share one socket path in their home directory.
control_socket_disable = True

# Proxy headers: the app trusts X-Forwarded-For/Proto/Host from exactly PROXY_COUNT
# proxies (werkzeug's ProxyFix, see README "Production"), so gunicorn's own
# forwarded_allow_ips stays at its default (127.0.0.1 and ::1). Widen it (e.g. to
# nginx's address) only if gunicorn is reachable from nothing but that proxy.

# Logs: gunicorn's error log as JSON on stderr in the same shape as the app's
# (portfolio/logs.py). gunicorn's access log is off: nginx keeps one, and the app
# writes one JSON line per request at LOG_LEVEL=INFO (logger seasons.request, with
# its duration). To have gunicorn's too, set the handlers of gunicorn.access below
# to ["stdout"]: one JSON object per request whose message has this format
# (remote address, request line, status, bytes, milliseconds, referrer, agent).
# (--access-logfile has no effect: this dictionary reconfigures the logger after it.)
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "portfolio.logs.json_formatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        },
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stdout",
        },
    },
    # The app adds its own root handler (portfolio/logs.py); gunicorn's merged
    # defaults name handlers this dict replaces, so root is spelt out.
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": False},
    },
}
