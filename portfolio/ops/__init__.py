"""Operations: scheduler heartbeats and lease, readiness checks for load balancers."""
