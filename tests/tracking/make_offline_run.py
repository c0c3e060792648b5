"""Write a real offline W&B run: ``python make_offline_run.py DIR SPEC.json`` (test helper).

Run as a subprocess so that ``wandb.init`` (console hooks, atexit teardown, its own
service) never touches the pytest process.
"""

import json
import sys

import wandb

out_dir, spec_path = sys.argv[1], sys.argv[2]
with open(spec_path) as fh:
    spec = json.load(fh)  # NaN/Infinity tokens come back as floats

run = wandb.init(
    mode="offline",
    dir=out_dir,
    entity=spec["entity"],
    project=spec["project"],
    name=spec["name"],
    config=spec["config"],
    tags=spec["tags"],
    settings=wandb.Settings(console="off", x_disable_stats=True, x_disable_meta=True),
)
for row in spec["history"]:
    run.log(row)
for key, value in spec["summary"].items():
    run.summary[key] = value
run.finish()
print(run.id)
