"""check_migrations.py: round-trip a project's migrations on an empty database."""
