"""Scenario files, their pydantic schema and the loader (merge ``extends`` chains, validate once)."""
from scenarios.loader import ScenarioError, deep_merge, dump, json_schema, load
from scenarios.schema import Scenario

__all__ = ["Scenario", "ScenarioError", "deep_merge", "dump", "json_schema", "load"]
