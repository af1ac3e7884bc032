"""Write scenarios/scenario.schema.json (JSON schema for editors) from the pydantic models.

    python -m scenarios.schema_file
"""
import json
from pathlib import Path

from scenarios.loader import json_schema

TARGET = Path(__file__).resolve().parent / "scenario.schema.json"

if __name__ == "__main__":
    TARGET.write_text(json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}")
