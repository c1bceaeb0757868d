"""Open Referral UK service directory import: `load_directory(bytes) -> DirectoryImport`.

Not a person connector: see connectors/oruk/importer.py and docs/connectors/oruk.md.
"""
