"""Development and test tools that live in a checkout only, never in the wheel.

pyproject.toml's wheel config lists ``portfolio`` and ``scheduler`` only, so nothing here
ships; tests/deploy/test_wheel_install.py checks that.
"""
