"""The prose of RESULTS.md: how to read the tables, and what the profiles found."""

HOW_TO_READ = """\
Each case runs its variants in interleaved repetitions (the order rotates every repetition),
so a load spike from another process on this shared machine hits both sides of a ratio.
**median** and **range** are over repetitions; **ratio to baseline** is the median of the
per-repetition ratios to the case's baseline (the first row of its group), and **ratio range**
their minimum and maximum. Absolute times drift between runs here (see the load average
below: other jobs shared the 2 cores); quote the ratios, and read a wide ratio range as noise.
The HTTP rows measure requests/s with separate load-generator processes on the same 2 cores,
so their requests/s swing with the machine's load; the server's CPU time per request
(`CPU ms/req`, from /proc/<pid>/stat) is the steadier figure and the one to quote first.

Cases and sizes: point read (500 reads by primary key per repetition); bulk insert (10,000
rows; the repository loop writes 500 and is reported per row); loading (100 users with 10
posts each); pagination (300,000 posts, 20 per page; OFFSET and keyset at the same depths);
test isolation (15 simulated tests per repetition: insert a user, commit, read it back);
HTTP (PostgreSQL only: GET 2,500 requests per repetition over 32 keep-alive connections,
POST 80 requests, each bounded by a deadline); request anatomy (PostgreSQL only, CPU time
of this process per operation, layer by layer). The test that proves no row leaks between
tests on SQLite (and PostgreSQL) is `tests/bench/test_isolation_leak.py`: one test commits
through the savepoint fixtures, the next finds nothing, through its session and through a
connection outside the test's transaction."""

FINDINGS = """\
## Profile findings

**GET /users/{id}, PostgreSQL.** Profiled with pyinstrument on the asset app under uvicorn
while `bench.loadgen` drove it, with cProfile on the in-process request loop (the request
anatomy case), and with asyncpg's `Connection.add_query_logger` to list what reaches the
server. What each request sends to PostgreSQL:

| asset app | raw asyncpg app |
|---|---|
| `SELECT 1` (the engine's checkout ping) | |
| `BEGIN ISOLATION LEVEL READ COMMITTED;` | |
| the SELECT (prepared once per connection, then cached) | the SELECT (prepared, cached) |
| `COMMIT;` | asyncpg's reset on release (one query: `pg_advisory_unlock_all()`, `CLOSE ALL`, \
`UNLISTEN *`, `RESET ALL`) |

Four round trips against two. On this machine a round trip over loopback costs the server
process real CPU (cProfile puts most of a request's wall time in `socket.send`: the kernel
wakes the PostgreSQL backend inside the call), so the CPU ratio follows the round-trip count.
The first profile found six: SQLAlchemy's own `pool_pre_ping` wraps its asyncpg ping in
`BEGIN`/`ROLLBACK` so that it also works behind PgBouncer in transaction mode
(sqlalchemy#10226), three round trips per checkout. The asset engine now does the same check
with one simple-protocol `SELECT 1` in a `checkout` event (no prepared statement, so safe
behind PgBouncer too), raising `DisconnectionError` so the pool replaces a dead connection;
the dead-connection tests in `tests/reliability/` pass unchanged. The two `engine checkout`
rows of the request anatomy price both pings. The rest of the gap is SQLAlchemy's asyncio
layer: Core in `engine.begin()` costs most of what the ORM request costs, so the ORM adds
little on top of Core; the greenlet bridge, the connection and transaction bookkeeping and
the result machinery account for the remainder.

What was measured and what it means for the assets:

- **The checkout ping**: kept, at one round trip. It turns a connection that the server, a
  proxy or a failover closed while it sat in the pool into a silent reconnect, where without
  it the next request on it fails (503 in the asset app).
- **BEGIN/COMMIT per request**: kept. The commit-before-response session
  (`Depends(get_session, scope="function")`) is what turns a failed commit into an error
  response instead of a 201 for a row that never landed. A read that executed a query needs
  a COMMIT or a ROLLBACK either way (one round trip each).
- **A read session on an AUTOCOMMIT engine** (`bench/readapp.py`, HTTP and anatomy rows):
  no BEGIN or COMMIT. Not adopted: over HTTP it measured within the noise of the asset app
  once the ping was one round trip, nothing written through it is transactional, and routes
  would need a second dependency.
- **session.get vs select() + scalar, ORM vs Core inside the session**: no difference beyond
  the noise in-process, so the repository keeps `session.get`.
- **SQLAlchemy's compiled cache and the asyncpg adapter's prepared statement cache**: on by
  default and working: on one pooled connection the adapter's cache holds the same 5
  statements after the first request and after the hundredth, so the SELECT is prepared once
  per connection, not per request.
- **response_model from the ORM object** (`UserPublic` with `from_attributes`): about 4 µs
  per request in-process, a rounding error next to the database layer.

Verdict: the ping change is the one fix that was ours; what remains is the transaction that
reliability pays for (two round trips) and SQLAlchemy's asyncio layer, both measured above.
Where the GET target is still not met, that is the reason.

**Other targets.** `add_all` + flush is far less slow than the folklore says: SQLAlchemy 2
batches the INSERTs of a flush (insertmanyvalues), so on PostgreSQL it sits within a small
multiple of `insert(Post)` with a list of dicts, and a target of 4x between the two can miss.
The per-row `repository.create_post` loop (a flush per row) is the slow path. Keyset pages
cost the same at every depth: on PostgreSQL, `EXPLAIN (ANALYZE, BUFFERS)` of the keyset query at
depth 290,000 shows `Index Scan Backward using ix_posts_created_at_id` with the row comparison
as its index condition, 4 shared buffers and 0.07 ms of execution, and a separate check of
`repository.page_posts` (20 pages at each depth, one session) gave the same median at depth
0 and 290,000 within the machine's noise; SQLite's plan is the same index search. Their
absolute time here is the ORM building 21 objects on a machine whose load average was near
10, which is what holds the page above 2 ms and the keyset vs OFFSET ratio below 100x;
OFFSET grows with depth on both backends, keyset does not. On SQLite the ORM point read
is a large multiple of the raw driver because the raw read is so cheap (a page-cache hit and
one worker-thread hop in aiosqlite), so SQLAlchemy's fixed cost per statement dominates the
ratio; on PostgreSQL the same ratio moves with the load, since the raw read's round trip
is most of its time (compare the ratio range with the target). The savepoint fixtures cost
less than no isolation at all (a negative overhead): the
test's commit only releases a SAVEPOINT, while the baseline's commit is real and waits for
the disk."""
