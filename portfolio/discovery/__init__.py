"""Discovery: public search over public projects, and project tags."""
