"""Extensions, created unbound and bound to an app by create_app()."""

from __future__ import annotations

from flask_caching import Cache
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf import CSRFProtect

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
# Strong protection drops a session whose address/agent fingerprint changed.
login_manager.session_protection = "basic"

csrf = CSRFProtect()

# Storage comes from RATELIMIT_STORAGE_URI: memory by default, Redis when set.
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)

# Rendered public pages and chart SVGs. SimpleCache per process by default,
# RedisCache shared by every worker when REDIS_URL is set (see config.py).
cache = Cache()
