"""The schema revision this code expects. tests/test_storage.py checks it against Alembic's
head, so starting a bot whose database is current needs no Alembic import at all."""

HEAD = "0036"
