"""Rule files (``rules/*.yaml``): pydantic models, loading with positions, and matching."""
