"""Campus Helpdesk benchmark: the real app under Hypercorn, driven from a separate load generator,
with every figure measured beside a ceiling (bare websockets, bare ASGI, raw aiosqlite) taken in
the same run on the same machine. Run `python -m bench --quick` from the repository root.
"""
