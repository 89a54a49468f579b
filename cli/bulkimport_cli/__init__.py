"""`bulkimport`: the command line client of the bulk import API."""
