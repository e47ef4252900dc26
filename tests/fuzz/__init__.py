"""Property-based fuzzing of the JSON API, the /ws protocol and the OpenAPI description."""
