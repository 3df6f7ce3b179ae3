"""Assurance: the closed loop's own room, beside ``lcm`` (docs/assurance.md).

The foundations, each usable alone:

* ``health`` - the package's health probes run for real (from the collection's core);
* ``drift`` - pure comparison of desired state, VIM report and probe results; orphans;
* ``orphans`` - every resource carrying our marks on the local VIM;
* ``sync`` - one synchronisation pass through ports, with its cost per instance;
* ``rules`` - Prometheus targets and alert rules generated from the VNFD;
* ``stack`` - embedded Prometheus and Alertmanager (or external ones by URL);
* ``metrics`` - the probe results as Prometheus metrics.

Nothing here writes a record or changes a VIM.
"""
