"""NHS vaccination record batch CSV: the NHS England Immunisation API's batch upload file."""
