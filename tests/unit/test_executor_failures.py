"""How a failed task's result becomes the one-line cause of an operation's error."""

from __future__ import annotations

from vnfm_runner.executor import _failure_message

TRACE = """Traceback (most recent call last):
  File "/x/runner.py", line 1037, in _run
    self._run_code(code, mod)
  File "/c/ansible_collections/nfv/vnfm/plugins/module_utils/vim/_local/apply.py", line 12, in create
    raise RuntimeError("injected driver failure")
RuntimeError: injected driver failure
"""


def test_a_module_that_died_of_an_exception_names_it_and_where() -> None:
    # what Ansible answers when a module (under Mitogen) printed a traceback, not JSON
    res = {
        "msg": "Module result deserialization failed: No start of json char found",
        "module_stderr": TRACE,
        "exception": 'Traceback...\n  File "/a/ansible/module_utils/json_utils.py", line 56',
    }
    assert _failure_message(res) == (
        "RuntimeError: injected driver failure (RuntimeError at "
        "ansible_collections/nfv/vnfm/plugins/module_utils/vim/_local/apply.py:12 in create)"
    )


def test_a_reported_failure_keeps_its_message_and_stderr() -> None:
    res = {"msg": "non-zero return code", "stderr": "daemon did not start"}
    assert _failure_message(res) == "non-zero return code daemon did not start"
    # a module's stderr without a traceback is not mistaken for one
    res = {"msg": "boom", "module_stderr": "warning: something"}
    assert _failure_message(res) == "boom"
