"""Settings read from the environment: the only module that touches os.environ.

Each setting has a default and a comment; `.env.example` lists them all.
Empty values count as unset, so `FOO=` in a shell falls back to the default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .keyfile import load_or_create_key

# Keys that appear in tutorials and templates; a server that uses one signs
# sessions anybody can forge, so we refuse them outside debug.
KNOWN_DEV_SECRETS = frozenset(
    {"dev", "development", "secret", "changeme", "change-me", "please-change-me", "seasons-dev"}
)

# redis-py connection options for the cache and the rate limits: a Redis that does
# not answer costs about a second, not the operating system's TCP timeout.
REDIS_CONNECTION_OPTIONS = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}


def _env(environ: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = environ.get(name, "")
    return value if value.strip() else default


def _bool(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _choice(value: str | None, allowed: set[str], name: str) -> str:
    """Refuse a misspelt enumerated setting at start-up rather than at first use."""
    value = (value or "").strip().lower()
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(sorted(allowed))}; got {value!r}")
    return value


def _storage_url(value: str | None) -> str:
    """Refuse a storage setting we cannot use at start-up, not at the first upload."""
    value = (value or "database").strip()
    if value != "database" and not (value.startswith("s3://") and len(value) > len("s3://")):
        raise ValueError(f"STORAGE_URL must be 'database' or s3://bucket/prefix; got {value!r}")
    return value


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in Heroku/libpq style."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_secret_key(instance_path: Path) -> str:
    """Read the instance's secret key, creating it on first run.

    Generated once and kept beside the SQLite file so that sessions survive
    restarts without anyone having to invent a key (written atomically, see keyfile.py).
    """
    return load_or_create_key(instance_path / "secret_key", setting="SECRET_KEY")


def is_sqlite(url: str) -> bool:
    """Tell whether a database URL is the embedded, single-host SQLite kind."""
    return url.startswith("sqlite")


def check_shared_keys(config: Mapping[str, Any]) -> None:
    """Refuse to start a multi-host setup whose hosts would each generate their own keys.

    A generated key lives in one host's instance folder: a second web host would
    reject the first one's sessions, and a scheduler elsewhere could not decrypt
    the W&B keys saved through the web. On PostgreSQL the operator sets both.
    """
    if config.get("DEBUG") or config.get("TESTING") or is_sqlite(config["DATABASE_URL"]):
        return
    missing = [name for name in ("SECRET_KEY", "CREDENTIALS_KEY") if not config.get(name)]
    if missing:
        raise RuntimeError(
            f"Set {' and '.join(missing)}: with a shared database (DATABASE_URL is not SQLite) "
            "every web host and the scheduler must use the same keys, so they are not "
            "generated per host. Generate each with: "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )


def check_intervals(config: Mapping[str, Any]) -> None:
    """Refuse lease settings under which a live process would lose its lease or claim.

    The active scheduler renews its lease once a tick, so a lease shorter than two
    ticks lets a standby take over from a healthy process; an import lease shorter
    than an import's own time limit hands a running import to a second worker.
    """
    tick, lease = config["SCHEDULER_TICK_SECONDS"], config["SCHEDULER_LEASE_SECONDS"]
    if lease <= 2 * tick:
        raise ValueError(
            f"SCHEDULER_LEASE_SECONDS ({lease:g}) must exceed twice SCHEDULER_TICK_SECONDS "
            f"({tick:g})"
        )
    if config["IMPORT_LEASE_SECONDS"] <= config["OFFLINE_IMPORT_TIMEOUT"]:
        raise ValueError("IMPORT_LEASE_SECONDS must exceed OFFLINE_IMPORT_TIMEOUT")


def instance_path_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """Where the SQLite file, generated keys and W&B scratch files live. Unset: ./instance."""
    value = _env(os.environ if environ is None else environ, "INSTANCE_PATH")
    return str(Path(value).resolve()) if value else None


def from_env(instance_path: Path, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build the Flask config mapping from environment variables."""
    env = os.environ if environ is None else environ
    redis_url = _env(env, "REDIS_URL")
    base_url = _env(env, "BASE_URL", "http://127.0.0.1:5000")
    assert base_url is not None
    https = base_url.startswith("https://")
    return {
        # Signs sessions and CSRF tokens. Unset: generated into instance/secret_key (SQLite
        # only; check_shared_keys refuses to start without it on a shared database).
        "SECRET_KEY": _env(env, "SECRET_KEY"),
        # Debug mode (never in production).
        "DEBUG": _bool(_env(env, "FLASK_DEBUG"), False),
        # SQLAlchemy URL. Default: SQLite file instance/seasons.db.
        "DATABASE_URL": normalize_database_url(
            _env(env, "DATABASE_URL", f"sqlite:///{instance_path / 'seasons.db'}") or ""
        ),
        # Public address of the site, used in emails, feeds and canonical links.
        "BASE_URL": base_url.rstrip("/"),
        # Number of reverse proxies in front of the app whose X-Forwarded-* to trust.
        "PROXY_COUNT": int(_env(env, "PROXY_COUNT", "0") or 0),
        # Redis for rate limits and caches shared across workers. Unset: in-memory.
        # Redis down fails open: the cache reads as a miss (portfolio/caching.py) and
        # rate limits fall back to per-process memory until Redis answers again.
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_STORAGE_OPTIONS": dict(REDIS_CONNECTION_OPTIONS) if redis_url else {},
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "CACHE_TYPE": "portfolio.caching.FailOpenRedisCache" if redis_url else "SimpleCache",
        "CACHE_REDIS_URL": redis_url,
        "CACHE_OPTIONS": dict(REDIS_CONNECTION_OPTIONS) if redis_url else None,
        "CACHE_KEY_PREFIX": "seasons:",
        "CACHE_DEFAULT_TIMEOUT": 24 * 3600,
        # Rate limits (Flask-Limiter syntax) for login and sign-up attempts per address.
        "LOGIN_RATE_LIMIT": _env(env, "LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "SIGNUP_RATE_LIMIT": _env(env, "SIGNUP_RATE_LIMIT", "5 per minute;20 per hour"),
        # Password-reset requests and verification resends per client address, and per
        # email address or account (Flask-Limiter syntax): both apply.
        "ACCOUNT_EMAIL_RATE_LIMIT": _env(
            env, "ACCOUNT_EMAIL_RATE_LIMIT", "5 per minute;20 per hour"
        ),
        "ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT": _env(
            env, "ACCOUNT_EMAIL_ADDRESS_RATE_LIMIT", "3 per 15 minutes;10 per day"
        ),
        # 1: accounts whose email address is not confirmed cannot comment, post updates or
        # publish, and get no reminder or digest emails. Off by default.
        "REQUIRE_VERIFIED_EMAIL": _bool(_env(env, "REQUIRE_VERIFIED_EMAIL"), False),
        # JSON API budget per signed-in user (any token or session), else per address.
        "API_RATE_LIMIT": _env(env, "API_RATE_LIMIT", "120 per minute;3000 per hour"),
        # Log level and format (json or text) for the stderr log.
        "LOG_LEVEL": _env(env, "LOG_LEVEL", "INFO"),
        "LOG_FORMAT": _env(env, "LOG_FORMAT", "json"),
        # Start the in-process scheduler in the web process (embedded default).
        "SCHEDULER_IN_WEB": _bool(_env(env, "SCHEDULER_IN_WEB"), True),
        # Cadence health: a project is "at risk" when its next milestone is due within
        # this many days, or when nothing happened on it for HEALTH_STALE_DAYS.
        "HEALTH_AT_RISK_DAYS": int(_env(env, "HEALTH_AT_RISK_DAYS", "3") or 3),
        "HEALTH_STALE_DAYS": int(_env(env, "HEALTH_STALE_DAYS", "14") or 14),
        # Session cookie: HttpOnly and SameSite=Lax always, Secure when served over https.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        # Outgoing email. No SMTP_HOST: emails are written to the log and kept as sent.
        "SMTP_HOST": _env(env, "SMTP_HOST"),
        # Unset: 25, 587 or 465 according to SMTP_SECURITY.
        "SMTP_PORT": int(_env(env, "SMTP_PORT", "0") or 0) or None,
        "SMTP_USERNAME": _env(env, "SMTP_USERNAME"),
        "SMTP_PASSWORD": _env(env, "SMTP_PASSWORD"),
        # none, starttls or ssl (implicit TLS).
        "SMTP_SECURITY": _choice(
            _env(env, "SMTP_SECURITY", "starttls"), {"none", "starttls", "ssl"}, "SMTP_SECURITY"
        ),
        # Seconds to wait for the SMTP server before counting a failed attempt.
        "SMTP_TIMEOUT": float(_env(env, "SMTP_TIMEOUT", "30") or 30),
        # Sender of every email.
        "MAIL_FROM": _env(env, "MAIL_FROM", "Seasons <noreply@localhost>"),
        # Failed sends are retried with exponential backoff (1, 2, 4 … min, at most 6 h
        # apart); after this many attempts a delivery is marked failed for admins to see.
        "MAIL_MAX_ATTEMPTS": int(_env(env, "MAIL_MAX_ATTEMPTS", "10") or 10),
        # Also start the scheduler inside gunicorn workers (one per worker). Off: run
        # `python -m scheduler` as its own process, as production should.
        "SCHEDULER_IN_GUNICORN": _bool(_env(env, "SCHEDULER_IN_GUNICORN"), False),
        # Where uploads live so every host reads them: "database" (default; kept in the
        # stored_objects table and in export-data) or s3://bucket/prefix for an
        # S3-compatible object store (AWS S3, MinIO, …) reached with the S3_* settings.
        "STORAGE_URL": _storage_url(_env(env, "STORAGE_URL", "database")),
        # The object store's API address (unset: AWS S3), e.g. http://minio.internal:9000.
        "S3_ENDPOINT_URL": _env(env, "S3_ENDPOINT_URL"),
        # Region of the bucket (unset: boto3's default, us-east-1 for AWS).
        "S3_REGION": _env(env, "S3_REGION"),
        # Credentials (unset: boto3's usual chain: AWS_* variables, instance role, …).
        "S3_ACCESS_KEY_ID": _env(env, "S3_ACCESS_KEY_ID"),
        "S3_SECRET_ACCESS_KEY": _env(env, "S3_SECRET_ACCESS_KEY"),
        # Seconds to connect or read before an upload is refused as "store unreachable".
        "S3_TIMEOUT": float(_env(env, "S3_TIMEOUT", "5") or 5),
        # Largest image upload for write-ups (bytes).
        "IMAGE_MAX_BYTES": int(_env(env, "IMAGE_MAX_BYTES", str(5 * 1024 * 1024)) or 0),
        # Largest request body accepted (bytes); uploads have their own, smaller limits.
        "MAX_CONTENT_LENGTH": int(_env(env, "MAX_CONTENT_LENGTH", str(16 * 1024 * 1024)) or 0),
        # CSRF tokens last as long as the session rather than one hour.
        "WTF_CSRF_TIME_LIMIT": None,
        # Tracking (W&B). A server-wide key, used for links whose creator saved no key of
        # their own for that server: the W&B client needs a key even for public runs.
        "WANDB_API_KEY": _env(env, "WANDB_API_KEY"),
        # The W&B API server that key belongs to, and the default for pasted
        # entity/project/run paths: W&B cloud, a self-hosted W&B Server, or
        # http://127.0.0.1:8765 for `flask dev-wandb`.
        "WANDB_BASE_URL": _env(env, "WANDB_BASE_URL", "https://api.wandb.ai"),
        # Encrypts learners' saved W&B keys (any long random text; several, comma-separated,
        # to rotate: the first encrypts, all decrypt). Unset: generated into
        # instance/credentials_key (SQLite only, like SECRET_KEY). Losing it means learners
        # must save their keys again.
        "CREDENTIALS_KEY": _env(env, "CREDENTIALS_KEY"),
        # Seconds per W&B request, and retries of a failed request, during a sync.
        "WANDB_TIMEOUT": float(_env(env, "WANDB_TIMEOUT", "15") or 15),
        "WANDB_RETRIES": int(_env(env, "WANDB_RETRIES", "2") or 0),
        # Longest a web request waits for W&B to confirm a pasted run (then it is queued).
        "WANDB_LINK_CHECK_SECONDS": float(_env(env, "WANDB_LINK_CHECK_SECONDS", "8") or 8),
        # Run links synced per scheduler tick (every minute), at most.
        "WANDB_SYNC_BATCH": int(_env(env, "WANDB_SYNC_BATCH", "10") or 10),
        # Tracker fetches run at once within one tick (a slow server holds at most its
        # share of them), and the longest one fetch may take before it counts as a timeout.
        "SYNC_CONCURRENCY": int(_env(env, "SYNC_CONCURRENCY", "4") or 4),
        "SYNC_FETCH_SECONDS": float(_env(env, "SYNC_FETCH_SECONDS", "300") or 300),
        # Largest offline-run .zip a learner may upload (bytes).
        "WANDB_UPLOAD_MAX_BYTES": int(
            _env(env, "WANDB_UPLOAD_MAX_BYTES", str(100 * 1024 * 1024)) or 0
        ),
        # Discussion: every post (update, comment, edit, report) per signed-in user
        # (Flask-Limiter syntax).
        "DISCUSSION_RATE_LIMIT": _env(env, "DISCUSSION_RATE_LIMIT", "10 per minute;100 per hour"),
        # Write-up saves and previews, each per signed-in user (Flask-Limiter syntax); the
        # live preview asks at most about once a second while someone types.
        "WRITEUP_RATE_LIMIT": _env(env, "WRITEUP_RATE_LIMIT", "90 per minute;1500 per hour"),
        # Minutes during which the author may still edit a comment ("edited" is shown).
        "COMMENT_EDIT_MINUTES": int(_env(env, "COMMENT_EDIT_MINUTES", "15") or 15),
        # New accounts (younger than this many hours) have the two caps below.
        "NEW_ACCOUNT_HOURS": int(_env(env, "NEW_ACCOUNT_HOURS", "24") or 0),
        "NEW_ACCOUNT_MAX_COMMENTS": int(_env(env, "NEW_ACCOUNT_MAX_COMMENTS", "5") or 0),
        "NEW_ACCOUNT_MAX_LINKS": int(_env(env, "NEW_ACCOUNT_MAX_LINKS", "2") or 0),
        # Feedback requests unanswered this many days are flagged to admins, and the
        # learner may open them to any mentor.
        "FEEDBACK_FLAG_DAYS": int(_env(env, "FEEDBACK_FLAG_DAYS", "7") or 7),
        # Scheduler processes. Each writes its heartbeat and tries to take (or renews) the
        # lease of the singleton jobs every SCHEDULER_TICK_SECONDS; a lease lasts
        # SCHEDULER_LEASE_SECONDS, so a standby takes over a dead active process within
        # LEASE + TICK seconds (default 110 s).
        "SCHEDULER_TICK_SECONDS": float(_env(env, "SCHEDULER_TICK_SECONDS", "20") or 20),
        "SCHEDULER_LEASE_SECONDS": float(_env(env, "SCHEDULER_LEASE_SECONDS", "90") or 90),
        # Every scheduler process polls the work queues (emails, run syncs) this often.
        "SCHEDULER_QUEUE_SECONDS": float(_env(env, "SCHEDULER_QUEUE_SECONDS", "60") or 60),
        # ... and the queue of uploaded offline runs this often (the page shows "importing…").
        "SCHEDULER_IMPORT_SECONDS": float(_env(env, "SCHEDULER_IMPORT_SECONDS", "10") or 10),
        # /readyz answers 503 when no scheduler process beat for this long.
        "SCHEDULER_STALE_SECONDS": float(_env(env, "SCHEDULER_STALE_SECONDS", "600") or 600),
        # A claimed email not sent by then is free again (a killed sender's claims come back
        # after this); the sender renews it before each message of its batch. Must exceed one
        # send (SMTP_TIMEOUT per step).
        "MAIL_LEASE_SECONDS": float(_env(env, "MAIL_LEASE_SECONDS", "120") or 120),
        # A claimed offline import not finished by then is taken up again; longer than an
        # import may take (OFFLINE_IMPORT_TIMEOUT).
        "IMPORT_LEASE_SECONDS": float(_env(env, "IMPORT_LEASE_SECONDS", "600") or 600),
        # Seconds the scheduler's import job gives wandb to read one offline run.
        "OFFLINE_IMPORT_TIMEOUT": float(_env(env, "OFFLINE_IMPORT_TIMEOUT", "300") or 300),
    }
