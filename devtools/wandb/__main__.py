"""``python -m devtools.wandb``: serve the fake W&B with demo runs on 127.0.0.1."""

from devtools.wandb.fakeserver import main

main()
