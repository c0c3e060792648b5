"""Entry point: `flask --app app run` or `gunicorn app:app`."""

from portfolio import create_app
from scheduler import start_in_web

app = create_app()
# The embedded default: the dev server's serving process runs the scheduler
# (once, not again in the reloader's watcher); see scheduler.should_start_in_web.
start_in_web(app)
