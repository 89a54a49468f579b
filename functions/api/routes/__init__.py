"""One router per resource of the public API (docs/API.md)."""
