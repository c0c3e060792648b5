"""Public pages: home, health check; portfolio pages join later."""
