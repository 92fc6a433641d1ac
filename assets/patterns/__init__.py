"""Optional modules: copy one into your package beside db/ when a request needs it, renaming the
package in its `from app.db import ...` lines; each imports nothing else from the app."""
