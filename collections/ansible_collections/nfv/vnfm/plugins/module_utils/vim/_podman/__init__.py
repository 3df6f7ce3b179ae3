# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Internals of the ``podman`` VIM driver (``vim/podman.py``)."""
