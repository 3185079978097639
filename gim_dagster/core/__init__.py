"""Dagster-free domain code: importable and testable without Dagster."""
