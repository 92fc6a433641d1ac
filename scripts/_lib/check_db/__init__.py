"""check_db.py: the checks, from the URL's spelling to the database's migration revision."""
