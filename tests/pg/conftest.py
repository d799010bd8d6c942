from tests.pg.cluster import pg_cluster, pg_database, pg_url  # noqa: F401 (fixtures)
