"""FHIR bulk data NDJSON inbound connector (`ndjson`): one FHIR R4 resource per line."""
