"""The SQL migrations, numbered plain files, applied in order by registry/eventstore/database.py;
shipped as the package `modelog_migrations` (see setup.py)."""
