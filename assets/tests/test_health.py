"""The health probes on each backend: live without the database, ready once it is migrated."""

from httpx import AsyncClient


async def test_live_answers_without_the_database(client: AsyncClient) -> None:
    response = await client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_once_the_tables_exist(client: AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "database": "ok"}
