"""The embedded local stack (not shipped to Lambda): `python -m devstack` starts it."""
