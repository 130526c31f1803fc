"""Cloud trust configuration for the gate workflow: input validation and template rendering."""
