"""Admin pages: user list and role changes."""
