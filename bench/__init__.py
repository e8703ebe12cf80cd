"""Benchmarks: ``python -m bench`` (what ``./dev bench`` runs) prints one table.

Numbers live here and never in the test suite: a timed assertion fails on a slow CI
machine and says nothing about the code. ``bench/test_bench.py`` only checks that the
benchmark code still runs.

    scope.py    scope resolution in-process, cold user each iteration
    duplicates.py  the CUS-5 duplicate check in-process, with each lookup's query plan
    load.py     a real gunicorn on loopback, loaded with wrk or a small Python client
    report.py   the table
"""
