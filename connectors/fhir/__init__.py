"""FHIR R4 / UK Core inbound connector (`fhir`): single resources or Bundles, JSON or XML."""
