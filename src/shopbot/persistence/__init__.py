"""SQLAlchemy 2 persistence: all SQL of the project lives in this package."""
