"""Storage: SQLModel tables, the unit-of-work factory, one store per concept, migrations."""
