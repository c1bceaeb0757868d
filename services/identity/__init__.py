"""Identity resolution and family linking: every subject of every hub event gets a stable hub
person id and one or more family ids (`hubnet worker identity`, fh.events -> fh.linked).

The matching engine (comparators, blocking, scoring, resolver, families) is pure and works on a
store behind a small repository class; the faust agent in `worker.py` is a thin shell around it.
"""
