"""Domain package of the bulk-import service: shipped to every function as the core layer."""
