"""Voluntary and community sector activity (`vcs-json` webhook bodies, `vcs-csv` template files).

The contract is docs/connectors/native-formats.md; the mapping is documented in docs/connectors/vcs-json.md.
"""
