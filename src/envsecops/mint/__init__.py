"""`envsecops mint`: an allow decision for this job, re-checked, turned into credentials.

The modules, in the order a mint runs them: :mod:`.preconditions` (pure judgements: the
decision, the policy, the job, the duration), :mod:`.inputs` (reading and verifying the files
verify wrote), :mod:`.record` (the ledger entries), :mod:`.export` (masking and exporting),
:mod:`.run` (the sequence, every refusal before any provider call), :mod:`.render` (what the
humans read) and :mod:`.timing` (where the wall time went).
"""
