"""`hv-csv` connector: health-visiting mandated reviews from a community health record extract."""
