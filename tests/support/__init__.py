"""Helpers shared by test modules of every tier (fixtures stay in conftest.py files)."""
