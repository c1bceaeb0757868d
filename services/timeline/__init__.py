"""The unified family timeline: projector (fh.linked -> store), search, access policy, audit, API."""
