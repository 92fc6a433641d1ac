"""A FastAPI application with an async SQLAlchemy 2 database layer."""
