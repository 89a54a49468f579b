"""One router per resource of the public API (see shared API.md)."""
