"""NHS child health events connector (`nems`): NEMS / Digital Child Health STU3 event messages."""
