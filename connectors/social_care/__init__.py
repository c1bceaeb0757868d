"""Children's social care connectors: case events from case management systems (`csc-events`),
the DfE Children in Need census XML (`cin-census`) and the SSDA903 looked-after children tables
(`ssda903`). They share the child's identity rules, the DfE code lists and the FHIR resources."""
