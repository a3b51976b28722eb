"""Fault drills against the production stack (gunicorn, Celery, PostgreSQL, Redis), started
by the drills themselves: `python -m drills [a b c d e]`, or `make drills`. Never
collected by pytest (testpaths = tests); `.ci/run` runs them after the suite."""
