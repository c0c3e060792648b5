"""``seasons``: log in, link online runs, push offline run folders, show a project's runs.

Exit codes: 0 done, 1 the server refused or could not be reached, or (``push --wait``)
an import failed or was not applied because it was less complete than the run's
current results (the reason on stderr), 2 a usage error (argparse's own).
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time

from . import __version__
from ._api import Api, SeasonsError, save_config, settings
from ._runs import push

PENDING = ("queued", "importing")
POLL_SECONDS = 2.0


def _login(args: argparse.Namespace) -> int:
    url = (args.url or input("Seasons address (https://...): ")).strip().rstrip("/")
    token = (args.token or getpass.getpass("API token (write scope): ")).strip()
    base, secret = settings(url, token)
    me = Api(base, secret, args.timeout).request("GET", "/me")
    path = save_config(base, secret)
    print(f"Logged in to {base} as {(me or {}).get('handle', '?')}; saved in {path}")
    return 0


def _api(args: argparse.Namespace) -> Api:
    return Api(*settings(), args.timeout)


def _link(args: argparse.Namespace) -> int:
    api = _api(args)
    project = api.find_project(args.project)
    body = {"ref": args.run_url, **({"label": args.label} if args.label else {})}
    link = api.request("POST", f"/projects/{project['id']}/runs", body) or {}
    print(f"linked {link.get('ref', args.run_url)} to {project['owner']}/{project['slug']}")
    return 0


def _push(args: argparse.Namespace) -> int:
    api = _api(args)
    project = api.find_project(args.project)
    failed = 0
    for n, run_dir in enumerate(args.dirs, 1):
        print(f"[{n}/{len(args.dirs)}] uploading {run_dir} ...", end=" ", flush=True)
        try:
            job = push(api, project, run_dir, label=args.label)
        except SeasonsError as exc:
            failed += 1
            print("failed")
            print(f"seasons: {run_dir}: {exc}", file=sys.stderr)
            continue
        print(f"queued as import {job.get('id')}: {job.get('status_url')}")
        if job.get("incomplete"):
            print(f"seasons: warning: {job['incomplete']}", file=sys.stderr)
        if args.wait:
            failed += _wait(api, job, args.wait)
    return 1 if failed else 0


def _status(args: argparse.Namespace) -> int:
    api = _api(args)
    project = api.find_project(args.project)
    runs = api.request("GET", f"/projects/{project['id']}/runs?limit=100") or {}
    for run in runs.get("items") or []:
        line = f"{run.get('ref')}\t{run.get('sync_state')}\t{run.get('sync_status')}"
        if run.get("held_reason"):  # a newer, less complete result waits for a member
            line += f"\tnot applied: {run['held_reason']}"
        print(line)
    uploads = api.request("GET", f"/projects/{project['id']}/offline-runs") or {}
    for job in uploads.get("items") or []:
        if job.get("state") == "done" and not job.get("warning"):
            continue  # imported cleanly: its run is listed above
        why = job.get("error") or job.get("warning") or ""
        print(f"upload {job.get('filename')}\t{job.get('state')}\t{why}".rstrip())
    return 0


def _wait(api: Api, job: dict, seconds: float) -> int:
    """Poll an upload's status until the import ends; 1 unless it was applied."""
    deadline = time.monotonic() + seconds
    while job.get("state") in PENDING and time.monotonic() < deadline:
        time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))
        job = api.request("GET", job["status_url"]) or {}
    state, ref = job.get("state"), job.get("ref") or job.get("filename")
    if state in PENDING:
        print(f"seasons: {ref}: still {state}; see `seasons status`", file=sys.stderr)
        return 1
    if state == "done":
        print(f"imported {ref}")
        if job.get("warning"):
            print(f"seasons: warning: {ref}: {job['warning']}", file=sys.stderr)
        return 0
    print(f"seasons: {ref}: {state}: {job.get('error') or job.get('warning')}", file=sys.stderr)
    return 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="seasons", description=__doc__.splitlines()[0])
    top.add_argument("--version", action="version", version=f"seasons-client {__version__}")
    top.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    sub = top.add_subparsers(dest="command", required=True)
    login = sub.add_parser("login", help="store the site address and a token (0600)")
    login.add_argument("--url", help="the Seasons address (else asked)")
    login.add_argument("--token", help="an API token (else asked, not echoed)")
    login.set_defaults(func=_login)
    link = sub.add_parser("link", help="link an online W&B run")
    link.add_argument("run_url", help="the run's W&B address or entity/project/run_id")
    link.add_argument("--project", required=True, help="your project's slug or handle/slug")
    link.add_argument("--label", help="a name for the run on the page")
    link.set_defaults(func=_link)
    push_ = sub.add_parser("push", help="upload offline run folders (wandb/offline-run-*)")
    push_.add_argument("dirs", nargs="+", help="offline run folders")
    push_.add_argument("--project", required=True, help="your project's slug or handle/slug")
    push_.add_argument("--label", help="a name for the runs on the page")
    push_.add_argument(
        "--wait", type=float, default=0, metavar="SECONDS",
        help="wait up to SECONDS for each import; exit 1 if one failed or was not applied",
    )  # fmt: skip
    push_.set_defaults(func=_push)
    status = sub.add_parser(
        "status", help="the sync state of a project's runs, and uploads not (cleanly) imported"
    )
    status.add_argument("project", help="your project's slug or handle/slug")
    status.set_defaults(func=_status)
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one command; the exit code says how it went."""
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except SeasonsError as exc:
        print(f"seasons: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("seasons: interrupted", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
