"""Progress updates, comments, feedback requests and moderation (issue 7)."""
