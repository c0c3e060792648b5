"""Link or upload W&B runs to a Seasons portfolio, in two lines::

    from seasons_client import link_run
    link_run(run, project="my-project")

Online runs are linked (the server fetches them from W&B); offline runs are
uploaded when training ends. Nothing here raises into training: a failure is
one ``SeasonsWarning``. Only the standard library is used.
"""

from ._api import ENV_TOKEN, ENV_URL, SeasonsError, SeasonsWarning
from ._runs import link_run, run_path, upload_run

__version__ = "0.1.0"

__all__ = [
    "ENV_TOKEN",
    "ENV_URL",
    "SeasonsError",
    "SeasonsWarning",
    "__version__",
    "link_run",
    "run_path",
    "upload_run",
]
