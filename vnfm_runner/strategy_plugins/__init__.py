"""Ansible strategy plugins of the runner (loaded by ansible-playbook from this folder,
``ANSIBLE_STRATEGY_PLUGINS``; not imported by the runner itself)."""
