"""Tests of registers on PostgreSQL, over a throwaway cluster (cluster.py)."""
