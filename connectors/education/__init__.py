"""Education connectors: the DfE Common Transfer File (`ctf`) and the school attendance return
(`attendance-csv`). Both describe a pupil by UPN and share the pupil, attendance and event builders."""
