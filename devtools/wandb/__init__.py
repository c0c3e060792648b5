"""A fake W&B GraphQL server (``fakeserver``) for tests, benches and trying links offline.

Run it with ``python -m devtools.wandb --port 8765`` from a checkout.
"""
