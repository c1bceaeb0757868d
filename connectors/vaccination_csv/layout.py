"""The published layout of the NHS vaccination record batch file, and what the file as a whole says.

NHS England's Immunisation FHIR API takes batches of vaccination records as a CSV file: one header
line naming 34 columns (NHS_NUMBER ... LOCATION_CODE_TYPE_URI), fields separated by `|` (comma
also read), values optionally in double quotes, UTF-8 or Windows-1252 text. The file name says
which vaccine, which supplier and when it was written:
`<VACCINE>_Vaccinations_v<n>_<ODS code>_<YYYYMMDDThhmmsszz>.csv`. That time orders files, so a
later file's `update` of a record supersedes an earlier one; hubnet reads it from the name the
file arrived under (file drop, `X-Source-Name`, `hubnet convert`).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from connectors.common.fhir_time import utc_stamp

COLUMNS = (
    "nhs_number",
    "person_forename",
    "person_surname",
    "person_dob",
    "person_gender_code",
    "person_postcode",
    "date_and_time",
    "site_code",
    "site_code_type_uri",
    "unique_id",
    "unique_id_uri",
    "action_flag",
    "performing_professional_forename",
    "performing_professional_surname",
    "recorded_date",
    "primary_source",
    "vaccination_procedure_code",
    "vaccination_procedure_term",
    "dose_sequence",
    "vaccine_product_code",
    "vaccine_product_term",
    "vaccine_manufacturer",
    "batch_number",
    "expiry_date",
    "site_of_vaccination_code",
    "site_of_vaccination_term",
    "route_of_vaccination_code",
    "route_of_vaccination_term",
    "dose_amount",
    "dose_unit_code",
    "dose_unit_term",
    "indication_code",
    "location_code",
    "location_code_type_uri",
)
"""Every column of the specification; a header without one of them is refused as a whole."""
MANDATORY = (
    "person_forename",
    "person_surname",
    "person_dob",
    "person_gender_code",
    "person_postcode",
    "date_and_time",
    "site_code",
    "site_code_type_uri",
    "recorded_date",
    "primary_source",
    "vaccination_procedure_code",
    "location_code",
    "location_code_type_uri",
)
"""Cells a `new` or `update` row must fill (UNIQUE_ID, UNIQUE_ID_URI and ACTION_FLAG always)."""
ENCODINGS = ("utf-8", "cp1252")
UK = ZoneInfo("Europe/London")
_FILE_NAME = re.compile(r"_vaccinations_v\d+_[a-z0-9]+_(\d{8}t\d{6})(\d{2})?\.csv$", re.IGNORECASE)


def delimiter_of(data: bytes) -> str:
    """`|` as specified; a header line without one is read as comma-separated."""
    first_line = data.split(b"\n", 1)[0]
    return "|" if b"|" in first_line else ","


def file_stamp(source_name: str | None) -> str | None:
    """The UTC stamp of the time in a file name that follows the specification, else None."""
    if not source_name:
        return None
    found = _FILE_NAME.search(PurePosixPath(source_name.replace("\\", "/")).name)
    if found is None:
        return None
    try:
        written = datetime.strptime(found.group(1).upper(), "%Y%m%dT%H%M%S").replace(tzinfo=UK)
    except ValueError:
        return None
    return utc_stamp(written)
