"""The servers the HTTP case measures, each an ASGI app uvicorn serves in a process of its own.

raw.py is the reference (the same endpoints on a raw asyncpg pool); the others assemble the
asset app with one changed part, the way a project would adopt it. process.py starts one,
drives load at it from separate bench.loadgen processes and reads its CPU time.
"""
