"""The records every stage exchanges: frozen dataclasses with a stable JSON form and no I/O.

`findings` (pin-check), `bag` (components, runner facts, env hash), `decision` (principal,
decision, credential) and `ledger` (ledger entries). The pin-check names are re-exported
here because most of the code base uses them.
"""

from envsecops.model.findings import Confidence, Finding, Severity

__all__ = ["Confidence", "Finding", "Severity"]
