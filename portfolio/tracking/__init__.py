"""Tracking: experiment-tracking providers (W&B first), offline imports and downsampling."""
