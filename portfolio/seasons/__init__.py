"""Seasons, enrollment, milestones and cadence health."""
