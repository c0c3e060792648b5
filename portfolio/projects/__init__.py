"""Projects, teams, write-ups and visibility."""
