# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""VNF health probes: what a package declares (``vnfm.policies.HealthProbe``), run for real.

``probes.targets_for`` turns an instance's plan, its VIM resources and its VDUs'
probes into :class:`~probes.ProbeTarget` s; a :class:`~probes.ProbeRunner` runs
them (bounded concurrency) and keeps each VNFC's health with its failure
threshold. On the local VIM a probe runs inside the VNFC's network namespace
(``netns.py``); a VIM that gives no way into the VNFC's network is reported
``not_probed`` with the reason. docs/assurance.md.
"""
