"""Registers the ``binder`` marker for the Binder environment tests in this folder."""


def pytest_configure(config):
    config.addinivalue_line("markers", "binder: checks the Binder environment (pins, warm numba cache); "
                                       "takes minutes (cold numba compile); deselect with -m 'not binder'")
