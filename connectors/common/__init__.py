"""Pieces every connector shares: FHIR validation, identifier normalisation, date parsing."""
