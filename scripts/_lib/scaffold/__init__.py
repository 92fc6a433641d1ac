"""scaffold.py: find the project's layout, plan the files, write them all or none, report."""
