# Copyright: vnfm-toolkit developers
# Apache License 2.0 (see LICENSE)
"""Private building blocks of the ``openstack`` VIM driver (see ``vim/openstack.py``)."""
